"""`factorstack release` against the local ECR, with a recording stand-in for `docker` (no Docker
engine runs here): the exact commands, the digests recorded, the preflight, a failed push."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import boto3
import pytest
import yaml

from factorstack.build import build
from factorstack.build.resolve import resolve_set
from factorstack.deploy.bootstrap import run_bootstrap
from factorstack.deploy.local.server import LocalAws
from factorstack.deploy.plan import run_plan
from factorstack.deploy.release import run_release
from factorstack.errors import ConfigError, DeployError, NotReady, UsageError
from tests.support.fixture_build import ACCOUNT, REGION, dev_context, publish_image, seed_app
from tests.support.sample import copy_sample, edit_yaml

pytestmark = pytest.mark.usefixtures("lint_assumed_clean")

REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
BUILT = ("root.json", "process-web.json")
PROCESSES = {
    "web": "docker/apache",
    "worker": "docker/queue_worker",
    "scheduler": "docker/scheduler",
}

# Records each call as a JSON line; `push` puts the image into the local ECR as docker would,
# unless FAKE_DOCKER_FAIL_PUSH names the repository. `info` (release's check that the engine
# runs) is not recorded; with FAKE_DOCKER_DOWN set it fails as docker does without its daemon.
FAKE_DOCKER = """#!{python}
import hashlib, json, os, sys
import boto3
args = sys.argv[1:]
if args[0] == "info":
    if os.environ.get("FAKE_DOCKER_DOWN"):
        print("Client: Docker Engine - Community")
        print("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
              "Is the docker daemon running?", file=sys.stderr)
        sys.exit(1)
    sys.exit(0)
stdin = sys.stdin.read() if "--password-stdin" in args else None
with open(os.environ["FAKE_DOCKER_LOG"], "a") as log:
    log.write(json.dumps({{"args": args, "stdin": stdin, "cwd": os.getcwd()}}) + "\\n")
if args[0] == "push":
    repository, tag = args[1].split("/", 1)[1].rsplit(":", 1)
    if os.environ.get("FAKE_DOCKER_FAIL_PUSH") == repository:
        sys.exit(1)
    manifest = json.dumps({{"schemaVersion": 2, "layers": [],
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {{"digest": "sha256:" + hashlib.sha256(args[1].encode()).hexdigest()}}}})
    boto3.client("ecr").put_image(repositoryName=repository, imageManifest=manifest, imageTag=tag)
"""


@pytest.fixture
def repo(local_aws: LocalAws, tmp_path: Path) -> Path:
    """The sample app, its dev environment in the local account, built and bootstrapped."""
    root = copy_sample(tmp_path / "repo")
    edit_yaml(root / "environments/dev.yaml", lambda d: d.update(account=ACCOUNT, region=REGION))
    build(root, ["dev"])
    run_bootstrap(dev_context(root))
    seed_app(root)  # the app's SSM parameter and secret, so plan passes the account preflight
    return root


@pytest.fixture
def docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `docker` stand-in first on PATH; returns its log file."""
    folder = tmp_path / "fake-bin"
    folder.mkdir()
    script = folder / "docker"
    script.write_text(FAKE_DOCKER.format(python=sys.executable))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    log = tmp_path / "docker.log"
    log.touch()
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_DOCKER_LOG", str(log))
    return log


def calls(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def ecr_digest(repository: str, tag: str) -> str:
    ecr = boto3.client("ecr", region_name=REGION)
    images = ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])
    return images["imageDetails"][0]["imageDigest"]


def test_release_builds_pushes_and_records_each_digest(repo: Path, docker: Path):
    release = run_release(dev_context(repo), "v1")
    # images are built for the CPU the environment's tasks run on
    architecture = yaml.safe_load((repo / "environments/dev.yaml").read_text()).get(
        "cpu_architecture", "X86_64"
    )
    platform = {"X86_64": "linux/amd64", "ARM64": "linux/arm64"}[architecture]
    recorded = calls(docker)
    login = recorded[0]
    assert login["args"] == ["login", "--username", "AWS", "--password-stdin", REGISTRY]
    assert login["stdin"]  # the password goes on stdin, never on the command line
    assert all(login["stdin"] not in " ".join(call["args"]) for call in recorded)
    expected = []
    for process, folder in PROCESSES.items():
        image = f"{REGISTRY}/example/{process}:v1"
        expected.append(
            [
                "build",
                "--platform",
                platform,
                "--file",
                f"{folder}/Dockerfile",
                "--tag",
                image,
                ".",
            ]
        )
        expected.append(["push", image])
    assert [call["args"] for call in recorded[1:]] == expected
    assert {call["cwd"] for call in recorded} == {str(repo)}  # the repo root is the context

    record = json.loads((repo / "releases/dev.json").read_text())
    assert record["tag"] == "v1"
    for process in PROCESSES:
        digest = ecr_digest(f"example/{process}", "v1")
        assert record["images"][process]["digest"] == digest
        assert record["images"][process]["uri"] == f"{REGISTRY}/example/{process}@{digest}"
    assert release.digests() == {p: record["images"][p]["digest"] for p in PROCESSES}


def test_released_digests_reach_the_task_definitions_and_pass_the_preflight(repo, docker):
    release = run_release(dev_context(repo), "v1")
    build(repo, ["dev"])
    files = {name: json.loads((repo / "build/dev" / name).read_text()) for name in BUILT}
    web = resolve_set(files)["process-web.json"]  # as dev runs it: the digest root.json passes
    image = web["Resources"]["WebTaskDefinition"]["Properties"]["ContainerDefinitions"][0]["Image"]
    assert image["Fn::Sub"].endswith(f"/example/web@{release.digests()['web']}")
    outcome = run_plan(dev_context(repo), [])
    assert outcome.changed and outcome.record is not None
    assert outcome.record.change_set_type == "CREATE"


def test_a_failed_push_stops_the_release_and_records_nothing(repo, docker, monkeypatch):
    monkeypatch.setenv("FAKE_DOCKER_FAIL_PUSH", "example/worker")
    with pytest.raises(DeployError) as failed:
        run_release(dev_context(repo), "v1")
    assert failed.value.lines == [
        f"docker push of {REGISTRY}/example/worker:v1 failed (docker exited 1); nothing recorded"
    ]
    assert not (repo / "releases/dev.json").exists()
    assert [c["args"][0] for c in calls(docker)] == ["login", "build", "push", "build", "push"]


def test_a_tag_already_in_ecr_is_not_built_again(repo, docker):
    first = run_release(dev_context(repo), "v1")
    before = len(calls(docker))
    again = run_release(dev_context(repo), "v1")
    assert calls(docker)[before:] == []  # every image is there: Docker is not even asked
    assert again.digests() == first.digests()


def test_releasing_an_older_tag_again_needs_no_docker(repo, docker, monkeypatch):
    """A rollback: v1's images are in ECR, so `release dev --tag v1` records them even where
    Docker is not running (a CI runner without it, a laptop with it stopped)."""
    first = run_release(dev_context(repo), "v1")
    monkeypatch.setenv("FAKE_DOCKER_DOWN", "1")
    assert run_release(dev_context(repo), "v1").digests() == first.digests()


def test_no_build_records_images_that_ci_pushed_itself(repo, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no docker at all
    digests = {p: publish_image(f"example/{p}", "ci-42") for p in PROCESSES}
    release = run_release(dev_context(repo), "ci-42", build_images=False)
    assert release.digests() == digests


def test_no_build_names_an_image_that_is_missing(repo, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    publish_image("example/web", "ci-42")
    with pytest.raises(NotReady) as refused:
        run_release(dev_context(repo), "ci-42", build_images=False)
    assert refused.value.lines[0].startswith(
        f"image example/worker:ci-42 is not in ECR ({REGISTRY}); push it first"
    )


def test_without_docker_release_says_so_in_one_line(repo, monkeypatch, tmp_path, capsys):
    from factorstack.cli import main

    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert main(["release", "dev", "--root", str(repo), "--tag", "v1"]) == 2
    assert capsys.readouterr().err.startswith("docker: not found on PATH (install Docker")
    assert not (repo / "releases/dev.json").exists()


def test_docker_installed_but_not_running_says_so_before_anything_else(
    repo, docker, monkeypatch, capsys
):
    from factorstack.cli import main

    monkeypatch.setenv("FAKE_DOCKER_DOWN", "1")
    assert main(["release", "dev", "--root", str(repo), "--tag", "v1"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "docker: Docker is not running (start Docker Desktop or the docker service, then "
        "release again); `docker info` said: Cannot connect to the Docker daemon at "
        "unix:///var/run/docker.sock. Is the docker daemon running?"
    ]
    assert calls(docker) == []  # no login, no build: nothing that would fail less clearly
    assert not list(repo.glob("releases/*.json"))


def test_local_images_then_release_no_build_walks_through_without_docker(repo, monkeypatch, capsys):
    from factorstack.cli import main

    monkeypatch.setenv("PATH", "/nonexistent")
    assert main(["local-images", "dev", "--root", str(repo), "--tag", "v1"]) == 0
    assert main(["release", "dev", "--root", str(repo), "--tag", "v1", "--no-build"]) == 0
    record = json.loads((repo / "releases/dev.json").read_text())
    assert set(record["images"]) == set(PROCESSES)


def test_local_images_into_a_repository_not_made_yet_says_to_bootstrap(repo, capsys):
    from factorstack.cli import main

    edit_yaml(
        repo / "app.yaml",
        lambda app: app["processes"].update(mailer={"docker": "docker/queue_worker"}),
    )
    assert main(["local-images", "dev", "--root", str(repo), "--tag", "v1"]) == 2
    assert capsys.readouterr().err.strip() == (
        "local-images: no repository example/mailer (run `factorstack bootstrap` first)"
    )


def test_local_images_refuses_a_non_local_endpoint(repo, monkeypatch, capsys):
    from factorstack.cli import main

    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://ecr.eu-west-1.amazonaws.com")
    assert main(["local-images", "dev", "--root", str(repo), "--tag", "v1"]) == 2
    assert "must point at a local endpoint" in capsys.readouterr().err


def test_plan_refuses_an_image_tag_other_than_the_released_one(repo, docker):
    run_release(dev_context(repo), "v1")
    build(repo, ["dev"])
    with pytest.raises(UsageError) as refused:
        run_plan(dev_context(repo), [], image_tag="v2")
    assert refused.value.lines[0].startswith(
        "releases/dev.json pins the images of release v1; image tag v2 would change nothing"
    )


def test_a_missing_dockerfile_stops_the_release_before_any_image_is_built(repo, docker):
    """Found at its own `docker build`, it came after the processes before it were pushed."""
    (repo / "docker/scheduler/Dockerfile").unlink()
    with pytest.raises(ConfigError) as refused:
        run_release(dev_context(repo), "v1")
    assert refused.value.lines == [
        "app.yaml: processes.scheduler.docker: docker/scheduler/Dockerfile not found "
        "(create it, or point docker: at the folder that holds it)"
    ]
    assert refused.value.exit_code == 2
    assert not docker.exists() or calls(docker) == []  # not even a login
    assert not (repo / "releases/dev.json").exists()


def test_placeholder_images_differ_by_repository_and_tag(repo, monkeypatch):
    """The local endpoint hashes layer digests into the image digest: with no layer every
    placeholder had one digest, so releasing v2 (or rolling back to v1) changed nothing."""
    from factorstack.cli import main

    monkeypatch.setenv("PATH", "/nonexistent")
    for tag in ("v1", "v2"):
        assert main(["local-images", "dev", "--root", str(repo), "--tag", tag]) == 0
    digests = {ecr_digest(f"example/{p}", tag) for p in PROCESSES for tag in ("v1", "v2")}
    assert len(digests) == 2 * len(PROCESSES)
