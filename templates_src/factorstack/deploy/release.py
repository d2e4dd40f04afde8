"""`factorstack release ENV [--tag TAG] [--no-build]`: build each process's image from its
Dockerfile for the environment's CPU, push it to the process's ECR repository under an
immutable tag, and record every digest in `releases/ENV.json`.

`make templates` then pins each task definition to `REPO@sha256:DIGEST`: what runs is exactly
what was built. A tag already in ECR is not built again (tags are immutable there).
"""

from __future__ import annotations

from pathlib import Path

from factorstack.build.manifest import AwsTarget
from factorstack.config import load_model
from factorstack.deploy.aws.gateway import Gateway
from factorstack.deploy.context import Context
from factorstack.deploy.decide.images import ImageRef
from factorstack.deploy.docker import PLATFORMS, Docker
from factorstack.deploy.revision import git_commit
from factorstack.errors import ConfigError, DeployError, NotReady, UsageError
from factorstack.model import AppModel, Process, repository_name
from factorstack.release_record import Release, ReleasedImage, write_release


def release_tag(root: Path, tag: str | None) -> str:
    """The given tag, else the git commit being released."""
    chosen = tag or git_commit(root)
    if not chosen:
        raise UsageError("release: no git commit to tag the images with (pass --tag TAG)")
    return chosen


def run_release(ctx: Context, tag: str | None, build_images: bool = True) -> Release:
    """Publish the images of one environment and write its release record. Docker is needed
    only for an image not in ECR yet: releasing a tag again (a rollback) needs none."""
    loaded = load_model(ctx.root, ctx.environment)
    model = loaded.model
    chosen_tag = release_tag(ctx.root, tag)
    aws = ctx.connect(AwsTarget(model.account, model.region, loaded.profile, loaded.role_arn))
    login = aws.registry_login()
    wanted = {
        p.name: ImageRef(p.name, repository_name(model.app, p.name), tag=chosen_tag)
        for p in model.processes
    }
    found = {name: aws.image_digest(image) for name, image in wanted.items()}
    missing = [p for p in model.processes if found[p.name] is None]
    docker = None
    if missing and build_images:  # every Dockerfile before the first build: none half-released
        _require_dockerfiles(ctx.root, missing)
        docker = Docker.find(ctx.root)
        docker.login(login.registry, login.user, login.password)
    images = tuple(
        publish(ctx, aws, docker, login.registry, wanted[p.name], found[p.name], p, model)
        for p in model.processes
    )
    release = Release(ctx.environment, chosen_tag, images)
    path = write_release(ctx.root, release)
    ctx.echo(f"wrote {path}; run `make templates` so the task definitions use these digests")
    return release


def _require_dockerfiles(root: Path, processes: list[Process]) -> None:
    """A missing Dockerfile would fail its `docker build` after the processes before it were
    already built and pushed."""
    missing = [
        f"app.yaml: processes.{process.name}.docker: {process.docker}/Dockerfile not found "
        "(create it, or point docker: at the folder that holds it)"
        for process in processes
        if not (root / process.docker / "Dockerfile").is_file()
    ]
    if missing:
        raise ConfigError(*missing)


def publish(
    ctx: Context,
    aws: Gateway,
    docker: Docker | None,
    registry: str,
    wanted: ImageRef,
    digest: str | None,
    process: Process,
    model: AppModel,
) -> ReleasedImage:
    """One process's image in ECR under its tag: `digest` when it is there already, else
    built and pushed (with Docker)."""
    tag = str(wanted.tag)
    remote = f"{registry}/{wanted.repository}:{tag}"
    if digest is None and docker is None:
        raise NotReady(
            f"image {wanted} is not in ECR ({registry}); push it first, or run "
            f"`factorstack release {ctx.environment} --tag {tag}` where Docker runs"
        )
    if digest is None and docker is not None:
        ctx.echo(f"building {process.name} from {process.docker}/Dockerfile")
        docker.build(f"{process.docker}/Dockerfile", remote, PLATFORMS[model.cpu_architecture])
        docker.push(remote)
        digest = aws.image_digest(wanted)
        if digest is None:
            raise DeployError(f"image {wanted} did not arrive in ECR after the push")
    elif docker is None:
        ctx.echo(f"found {wanted} in ECR")
    else:
        ctx.echo(f"{wanted} is already in ECR: not built again")
    return ReleasedImage(
        process.name, wanted.repository, str(digest), f"{registry}/{wanted.repository}@{digest}"
    )
