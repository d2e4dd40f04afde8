"""A bootstrap.json too large to send inline, end to end on the local moto server: the first
bootstrap creates the stack from the bucket-only template, then updates the same stack to the
full template read from the new bucket; every later bootstrap is one change set by URL; a small
template's first bootstrap is still one inline change set."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from rich.console import Console

from factorstack.build.manifest import AwsTarget
from factorstack.deploy import bootstrap as bootstrap_module
from factorstack.deploy.aws.gateway import Gateway
from factorstack.deploy.aws.session import open_clients
from factorstack.deploy.bootstrap import run_bootstrap
from factorstack.deploy.context import Context, Timing
from factorstack.deploy.decide.bootstrap_route import two_steps_line
from factorstack.deploy.decide.change_sets import ChangeSetRequest
from factorstack.deploy.decide.review import Review
from factorstack.deploy.local.server import LocalAws
from factorstack.errors import NotReady
from factorstack.limits import fits_inline
from factorstack.stacks.bootstrap import (
    create_bucket_template,
    create_template,
    repository_logical_id,
)
from tests.support.fixture_build import REGION, FixtureProject

FAST = Timing(timeout=60.0, poll=0.05)
STACK = "example-bootstrap"
BUCKET_RESOURCES = {"ArtifactsBucket", "ArtifactsBucketPolicy"}


def processes(count: int) -> list[str]:
    return ["web", *(f"worker-{index:03d}" for index in range(count - 1))]


@dataclass
class Recorded:
    """Each change set bootstrap asked for, and the review of each that had changes."""

    requests: list[ChangeSetRequest] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)

    def gateway(self, target: AwsTarget) -> Gateway:
        recorded = self

        class Recording(Gateway):
            def create_change_set(self, request: ChangeSetRequest) -> str | None:
                recorded.requests.append(request)
                return super().create_change_set(request)

        return Recording(open_clients(target))


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Recorded:
    record = Recorded()
    real = bootstrap_module.reviewed_change_set

    def reviewed(*args: Any, **kwargs: Any) -> Any:
        outcome = real(*args, **kwargs)
        if outcome is not None:
            record.reviews.append(outcome.review)
        return outcome

    monkeypatch.setattr(bootstrap_module, "reviewed_change_set", reviewed)
    return record


def with_processes(project: FixtureProject, count: int) -> bytes:
    """The project's build with a bootstrap for `count` processes, as the build renders it
    (the bucket-only template beside a large one); bootstrap.json's bytes."""
    project.templates["bootstrap.json"] = create_template("example", processes(count)).to_dict()
    project.templates.pop("bootstrap-bucket.json", None)
    folder = project.write()
    full = (folder / "bootstrap.json").read_bytes()
    if not fits_inline(len(full)):
        project.templates["bootstrap-bucket.json"] = create_bucket_template("example").to_dict()
        project.write()
    return full


def bootstrap(project: FixtureProject, record: Recorded) -> tuple[dict | None, str]:
    console = Console(record=True, width=250)
    ctx = Context(
        root=project.root,
        environment="dev",
        console=console,
        timing=FAST,
        change_set_timing=FAST,
        gateway_for=record.gateway,
    )
    stack = run_bootstrap(ctx)
    return (None if stack is None else {"status": stack.status, **stack.outputs}), (
        console.export_text()
    )


def key_of(data: bytes) -> str:
    return f"templates/{hashlib.sha256(data).hexdigest()}.json"


def rows(review: Review) -> set[tuple[str, str]]:
    return {(row.logical_id, row.action) for row in review.rows}


def test_a_large_first_bootstrap_creates_the_bucket_then_updates_from_it(
    local_aws: LocalAws, project: FixtureProject, recorded: Recorded
):
    full = with_processes(project, 40)
    assert not fits_inline(len(full))
    stack, text = bootstrap(project, recorded)
    assert stack is not None and stack["status"] == "UPDATE_COMPLETE"
    assert two_steps_line(len(full)) in text

    create, update = recorded.requests
    bucket_only = (project.folder / "bootstrap-bucket.json").read_text()
    assert (create.change_set_type, create.template_body, create.template_url) == (
        "CREATE",
        bucket_only,
        None,
    )
    assert create.name.startswith("fs-bootstrap-bucket-dev-")
    bucket = stack["ArtifactsBucketName"]
    url = f"https://{bucket}.s3.{REGION}.amazonaws.com/{key_of(full)}"
    assert (update.change_set_type, update.template_body, update.template_url) == (
        "UPDATE",
        None,
        url,
    )
    s3 = boto3.client("s3", region_name=REGION)
    assert s3.get_object(Bucket=bucket, Key=key_of(full))["Body"].read() == full

    # Both steps were reviewed; the second only adds: the bucket and its policy are untouched.
    first, second = recorded.reviews
    assert rows(first) == {(logical_id, "Add") for logical_id in BUCKET_RESOURCES}
    repositories = {repository_logical_id(p) for p in processes(40)}
    assert rows(second) == {(logical_id, "Add") for logical_id in repositories}

    cfn = boto3.client("cloudformation", region_name=REGION)
    deployed = cfn.get_template(StackName=STACK)["TemplateBody"]
    assert set(deployed["Resources"]) == BUCKET_RESOURCES | repositories
    ecr = boto3.client("ecr", region_name=REGION)
    names = {r["repositoryName"] for r in ecr.describe_repositories()["repositories"]}
    assert names == {f"example/{p}" for p in processes(40)}


def test_a_later_bootstrap_is_one_change_set_from_the_bucket(
    local_aws: LocalAws, project: FixtureProject, recorded: Recorded
):
    with_processes(project, 40)
    first, _ = bootstrap(project, recorded)
    assert first is not None
    recorded.requests.clear()
    recorded.reviews.clear()

    full = with_processes(project, 41)  # a new process type: one more repository
    stack, text = bootstrap(project, recorded)
    assert stack is not None and stack["status"] == "UPDATE_COMPLETE"
    assert "bootstrap-bucket.json" not in text
    (update,) = recorded.requests
    bucket = first["ArtifactsBucketName"]
    assert stack["ArtifactsBucketName"] == bucket  # the same bucket throughout
    assert update.change_set_type == "UPDATE" and update.template_body is None
    assert update.template_url == f"https://{bucket}.s3.{REGION}.amazonaws.com/{key_of(full)}"
    (review,) = recorded.reviews
    assert rows(review) == {(repository_logical_id("worker-039"), "Add")}

    recorded.requests.clear()
    assert bootstrap(project, recorded)[0] is None  # unchanged: nothing to do, still by URL
    (again,) = recorded.requests
    assert again.template_url == update.template_url


def test_a_small_first_bootstrap_is_one_inline_change_set_then_by_url(
    local_aws: LocalAws, project: FixtureProject, recorded: Recorded
):
    full = with_processes(project, 2)
    assert fits_inline(len(full))
    assert not (project.folder / "bootstrap-bucket.json").exists()
    stack, _ = bootstrap(project, recorded)
    assert stack is not None and stack["status"] == "CREATE_COMPLETE"
    (create,) = recorded.requests
    assert create.change_set_type == "CREATE"
    assert create.template_body == full.decode() and create.template_url is None
    assert create.name.startswith("fs-bootstrap-dev-")

    recorded.requests.clear()
    with_processes(project, 3)
    stack, _ = bootstrap(project, recorded)
    assert stack is not None and stack["status"] == "UPDATE_COMPLETE"
    (update,) = recorded.requests
    assert update.template_body is None and update.template_url is not None


def test_a_large_first_bootstrap_refuses_a_build_without_the_bucket_only_template(
    local_aws: LocalAws, project: FixtureProject, recorded: Recorded
):
    with_processes(project, 40)
    del project.templates["bootstrap-bucket.json"]
    project.write()
    (project.folder / "bootstrap-bucket.json").unlink()
    with pytest.raises(NotReady) as refused:
        bootstrap(project, recorded)
    assert refused.value.lines == [
        f"{project.folder / 'manifest.json'}: `templates` does not list bootstrap-bucket.json, "
        "which a first bootstrap of a bootstrap.json this large needs (run `make templates`)"
    ]
    assert recorded.requests == []
