"""`factorstack release ENV [--tag TAG] [--no-build]`: build each process's image from its
Dockerfile for the environment's CPU, push it to the process's ECR repository under an
immutable tag, and record every digest in `releases/ENV.json`.

`make templates` then pins each task definition to `REPO@sha256:DIGEST`: what runs is exactly
what was built. A tag already in ECR is not built again (tags are immutable there).
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from factorstack.config import load_model
from factorstack.deploy.changeset import git_commit
from factorstack.deploy.context import Context
from factorstack.deploy.docker import PLATFORMS, Docker
from factorstack.deploy.images import ImageRef, image_digest
from factorstack.deploy.session import AwsTarget, aws_errors, check_account
from factorstack.errors import DeployError, NotReady, UsageError
from factorstack.model import repository_name
from factorstack.release_record import Release, ReleasedImage, write_release


def release_tag(root: Path, tag: str | None) -> str:
    """The given tag, else the git commit being released."""
    chosen = tag or git_commit(root)
    if not chosen:
        raise UsageError("release: no git commit to tag the images with (pass --tag TAG)")
    return chosen


def ecr_login(ecr: Any) -> tuple[str, str, str]:
    """(registry host, user, password) from ECR's authorization token."""
    with aws_errors("getting an ECR authorization token"):
        data = ecr.get_authorization_token()["authorizationData"][0]
    user, password = base64.b64decode(data["authorizationToken"]).decode().split(":", 1)
    registry = str(data["proxyEndpoint"]).removeprefix("https://").removeprefix("http://")
    return registry, user, password


def run_release(ctx: Context, tag: str | None, build_images: bool = True) -> Release:
    """Publish the images of one environment and write its release record."""
    loaded = load_model(ctx.root, ctx.environment)
    model = loaded.model
    chosen_tag = release_tag(ctx.root, tag)
    docker = Docker.find(ctx.root) if build_images else None
    clients = ctx.clients_for(
        AwsTarget(model.account, model.region, loaded.profile, loaded.role_arn)
    )
    check_account(clients.sts, model.account)
    registry, user, password = ecr_login(clients.ecr)
    if docker is not None:
        docker.login(registry, user, password)

    images: list[ReleasedImage] = []
    for process in model.processes:
        wanted = ImageRef(process.name, repository_name(model.app, process.name), tag=chosen_tag)
        remote = f"{registry}/{wanted.repository}:{chosen_tag}"
        digest = image_digest(clients.ecr, wanted)
        if digest is None and docker is None:
            raise NotReady(
                f"image {wanted} is not in ECR ({registry}); push it first, or run "
                f"`factorstack release {ctx.environment} --tag {chosen_tag}` where Docker runs"
            )
        if digest is None and docker is not None:
            ctx.echo(f"building {process.name} from {process.docker}/Dockerfile")
            docker.build(f"{process.docker}/Dockerfile", remote, PLATFORMS[model.cpu_architecture])
            docker.push(remote)
            digest = image_digest(clients.ecr, wanted)
            if digest is None:
                raise DeployError(f"image {wanted} did not arrive in ECR after the push")
        elif docker is None:
            ctx.echo(f"found {wanted} in ECR")
        else:
            ctx.echo(f"{wanted} is already in ECR: not built again")
        images.append(
            ReleasedImage(
                process.name,
                wanted.repository,
                str(digest),
                f"{registry}/{wanted.repository}@{digest}",
            )
        )
    release = Release(ctx.environment, chosen_tag, tuple(images))
    path = write_release(ctx.root, release)
    ctx.echo(f"wrote {path}; run `make templates` so the task definitions use these digests")
    return release
