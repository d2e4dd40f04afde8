"""How bootstrap sends bootstrap.json: inline only while the bucket is not there yet and the
template fits in 51,200 bytes; through the bucket once it is; in two steps on a large first
create; and a one-line refusal when neither is possible."""

from __future__ import annotations

import pytest

from factorstack.deploy.decide.bootstrap_route import Route, bootstrap_route, two_steps_line
from factorstack.errors import DeployError
from factorstack.limits import MAX_TEMPLATE_BYTES_INLINE

SMALL = MAX_TEMPLATE_BYTES_INLINE  # exactly the limit still goes inline
LARGE = MAX_TEMPLATE_BYTES_INLINE + 1


@pytest.mark.parametrize(
    ("change_set_type", "bucket", "size", "route"),
    [
        ("CREATE", None, SMALL, Route.INLINE),  # today's first bootstrap, one step
        ("CREATE", None, LARGE, Route.BUCKET_FIRST),
        ("UPDATE", "artifacts-bucket", SMALL, Route.FROM_BUCKET),  # the bucket exists: URL
        ("UPDATE", "artifacts-bucket", LARGE, Route.FROM_BUCKET),
        ("UPDATE", None, SMALL, Route.INLINE),  # no output to read the bucket from: as before
    ],
)
def test_route(change_set_type: str, bucket: str | None, size: int, route: Route) -> None:
    assert bootstrap_route("example-bootstrap", change_set_type, bucket, size) is route


def test_a_large_update_without_a_bucket_output_is_refused_in_one_line() -> None:
    with pytest.raises(DeployError) as refused:
        bootstrap_route("example-bootstrap", "UPDATE", None, 150_342)
    assert refused.value.lines == [
        "bootstrap stack example-bootstrap has no ArtifactsBucketName output to read "
        "bootstrap.json (150,342 bytes, over the 51,200 bytes CloudFormation takes inline) "
        "from: it was not made by `factorstack bootstrap`; check it in the CloudFormation console"
    ]


def test_two_steps_line_says_why_and_what() -> None:
    assert two_steps_line(150_342) == (
        "bootstrap.json is 150,342 bytes, over the 51,200 bytes CloudFormation takes inline: "
        "creating the stack with its artifacts bucket first (bootstrap-bucket.json), then "
        "updating it to bootstrap.json from that bucket"
    )
