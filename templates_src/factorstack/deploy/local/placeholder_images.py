"""Placeholder images in the LOCAL endpoint's ECR, so a newcomer can walk through release,
plan and apply without Docker: moto has ECR's API but no registry to `docker push` to.

Refuses to run unless AWS_ENDPOINT_URL points at this machine, so it can never write to AWS.
"""

from __future__ import annotations

import hashlib
import json
import os
from urllib.parse import urlparse

from factorstack.build.manifest import AwsTarget
from factorstack.deploy.aws.gateway import Gateway, open_gateway
from factorstack.deploy.aws.session import LOCAL_HOSTS
from factorstack.errors import NotReady, UsageError

MANIFEST_MEDIA_TYPE = "application/vnd.docker.distribution.manifest.v2+json"
LAYER_MEDIA_TYPE = "application/vnd.docker.image.rootfs.diff.tar.gzip"


def require_local_endpoint(command: str = "local-images") -> str:
    """AWS_ENDPOINT_URL when it is this machine; the local-* commands never write to AWS."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
    if urlparse(endpoint).hostname not in LOCAL_HOSTS:
        raise UsageError(
            f"{command}: AWS_ENDPOINT_URL must point at a local endpoint such as "
            "`make local-aws` (it never writes to AWS)"
        )
    return endpoint


def publish_placeholders(repositories: list[str], tag: str, target: AwsTarget) -> dict[str, str]:
    """Put one small manifest per repository under `tag`; returns repository → digest."""
    endpoint = require_local_endpoint()
    aws = open_gateway(target)
    doing = f"local-images: publishing placeholder images to {endpoint}"
    return {
        repository: publish_placeholder(aws, repository, tag, doing) for repository in repositories
    }


def placeholder_manifest(repository: str, tag: str) -> str:
    """A manifest of one empty layer whose digest is unique to the repository and tag: the
    local endpoint's image digest is the hash of the layer digests, so with no layer every
    image had the same one, and a new release (or a rollback) changed nothing to deploy."""
    unique = hashlib.sha256(f"{repository}:{tag}".encode()).hexdigest()
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST_MEDIA_TYPE,
            "config": {"digest": f"sha256:{unique}"},
            "layers": [{"mediaType": LAYER_MEDIA_TYPE, "size": 0, "digest": f"sha256:{unique}"}],
        }
    )


def publish_placeholder(aws: Gateway, repository: str, tag: str, doing: str) -> str:
    """Put one placeholder manifest into a repository under `tag` (again: reuse it); its digest."""
    digest = aws.put_image_manifest(repository, tag, placeholder_manifest(repository, tag), doing)
    if digest is None:
        raise NotReady(
            f"local-images: no repository {repository} (run `factorstack bootstrap` first)"
        )
    return digest
