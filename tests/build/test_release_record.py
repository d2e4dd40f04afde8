"""A recorded release pins every task definition to the pushed image digests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from factorstack import build as build_module
from factorstack.build import build
from factorstack.build.resolve import resolve_set
from factorstack.cli import main
from factorstack.config import config_sha256
from factorstack.errors import NotReady
from factorstack.release_record import Release, ReleasedImage, read_release, write_release

DIGESTS = {name: "sha256:" + str(i) * 64 for i, name in enumerate(["web", "worker", "scheduler"])}


@pytest.fixture(autouse=True)
def no_lint(monkeypatch):
    monkeypatch.setattr(build_module, "lint_templates", lambda paths, regions, jobs=1: [])


def _release(processes=DIGESTS) -> Release:
    return Release(
        environment="dev",
        tag="abc1234",
        images=tuple(
            ReleasedImage(
                p,
                f"example/{p}",
                d,
                f"111111111111.dkr.ecr.eu-west-1.amazonaws.com/example/{p}@{d}",
            )
            for p, d in processes.items()
        ),
    )


def _image(root: Path, process: str) -> str:
    """The image as dev's root resolves the shared template (the digest is a setting)."""
    built = {p.name: json.loads(p.read_text()) for p in (root / "build/dev").glob("*.json")}
    template = resolve_set(built)[f"process-{process}.json"]
    task = template["Resources"][f"{process.capitalize()}TaskDefinition"]["Properties"]
    return task["ContainerDefinitions"][0]["Image"]["Fn::Sub"]


def test_without_a_release_tasks_use_the_image_tag(sample_root: Path):
    build(sample_root, ["dev"])
    assert _image(sample_root, "web").endswith("/example/web:${ImageTag}")


def test_with_a_release_tasks_use_the_digests_and_the_record_stays_outside_build(sample_root):
    build(sample_root, ["dev"])
    before = config_sha256(sample_root, "dev")
    path = write_release(sample_root, _release())
    assert path == sample_root / "releases/dev.json"
    assert config_sha256(sample_root, "dev") != before  # the build is now out of date
    build(sample_root, ["dev"])
    for process, digest in DIGESTS.items():
        assert _image(sample_root, process).endswith(f"/example/{process}@{digest}")
    assert not (sample_root / "build/dev/release.json").exists()  # an input, never an output
    assert path.is_file()
    manifest = json.loads((sample_root / "build/dev/manifest.json").read_text())
    assert manifest["config_sha256"] == config_sha256(sample_root, "dev")


def test_a_process_added_since_the_release_builds_unpinned_and_the_plan_names_the_steps(
    sample_root: Path,
):
    """Adding a process after a release: the build goes on (bootstrap needs its repository, and
    bootstrap takes only a current build), the new processes run the tag, and the plan's read
    of the record refuses until a release records them, naming the steps in their order."""
    build(sample_root, ["dev"])
    write_release(sample_root, _release({"web": DIGESTS["web"]}))
    build(sample_root, ["dev"])
    assert _image(sample_root, "web").endswith(f"/example/web@{DIGESTS['web']}")
    assert _image(sample_root, "worker").endswith("/example/worker:${ImageTag}")
    bootstrap = json.loads((sample_root / "build/dev/bootstrap.json").read_text())
    assert "SchedulerRepository" in bootstrap["Resources"]
    with pytest.raises(NotReady) as refused:
        read_release(sample_root, "dev", ["scheduler", "web", "worker"])
    assert refused.value.lines == [
        "releases/dev.json: images: no image for scheduler, worker (a process was added since "
        "the release; run `factorstack bootstrap dev` for its repository, then "
        "`factorstack release dev` and `make templates`)"
    ]


def test_a_broken_release_record_is_one_line(sample_root: Path, capsys):
    (sample_root / "releases").mkdir()
    (sample_root / "releases/dev.json").write_text("{not json")
    assert main(["--root", str(sample_root), "build", "dev", "--no-lint"]) == 2
    assert capsys.readouterr().err.strip() == (
        "releases/dev.json: not a release record (run `factorstack release dev` again)"
    )


def test_a_record_left_in_build_by_an_older_factorstack_is_not_dropped(sample_root, capsys):
    """The next build replaces build/dev: the record would vanish and unpin the images."""
    build(sample_root, ["dev"])
    legacy = sample_root / "build/dev/release.json"
    legacy.write_text(json.dumps(_release().to_json()))
    assert main(["--root", str(sample_root), "build", "dev", "--no-lint"]) == 2
    assert capsys.readouterr().err.strip() == (
        "build/dev/release.json: release records now live in releases/ "
        "(run `mkdir -p releases && mv build/dev/release.json releases/dev.json`)"
    )
    (sample_root / "releases").mkdir()
    legacy.rename(sample_root / "releases/dev.json")
    build(sample_root, ["dev"])
    assert _image(sample_root, "web").endswith(f"/example/web@{DIGESTS['web']}")
