"""How `factorstack bootstrap` sends bootstrap.json to CloudFormation.

CloudFormation takes a template inline (TemplateBody) up to 51,200 bytes and from S3
(TemplateURL) up to 1 MB, but the S3 bucket is the one the bootstrap stack creates. So: once the
stack exists with its bucket, the template always goes through the bucket; a first create of a
small template goes inline in one change set; a first create of a large one goes in two: the
bucket alone inline (bootstrap-bucket.json, the same bucket resources), then the full template
from that bucket as an update of the same stack.
"""

from __future__ import annotations

from enum import Enum

from factorstack.build.manifest import BUCKET_OUTPUT
from factorstack.errors import DeployError
from factorstack.limits import MAX_TEMPLATE_BYTES_INLINE, fits_inline


class Route(Enum):
    INLINE = "inline"  # TemplateBody, one change set
    FROM_BUCKET = "from the bucket"  # upload, TemplateURL, one change set
    BUCKET_FIRST = "bucket first"  # the bucket alone inline, then FROM_BUCKET


def bootstrap_route(
    stack_name: str, change_set_type: str, bucket: str | None, size_bytes: int
) -> Route:
    """The route for a template of `size_bytes`, given the stack's change-set type and the
    bucket its outputs name (None: no stack yet, or not created yet)."""
    if change_set_type == "UPDATE" and bucket:
        return Route.FROM_BUCKET
    if fits_inline(size_bytes):
        return Route.INLINE
    if change_set_type == "CREATE":
        return Route.BUCKET_FIRST
    raise DeployError(
        f"bootstrap stack {stack_name} has no {BUCKET_OUTPUT} output to read bootstrap.json "
        f"({size_bytes:,} bytes, over the {MAX_TEMPLATE_BYTES_INLINE:,} bytes CloudFormation "
        "takes inline) from: it was not made by `factorstack bootstrap`; check it in the "
        "CloudFormation console"
    )


def two_steps_line(size_bytes: int) -> str:
    """What a first bootstrap of a large template is about to do, in one line."""
    return (
        f"bootstrap.json is {size_bytes:,} bytes, over the {MAX_TEMPLATE_BYTES_INLINE:,} bytes "
        "CloudFormation takes inline: creating the stack with its artifacts bucket first "
        "(bootstrap-bucket.json), then updating it to bootstrap.json from that bucket"
    )
