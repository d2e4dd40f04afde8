"""The plan's parity section: when the build names the environment it promotes from, the review
(terminal, changeset.md and so the CI job summary, plan.json) shows what differs from it; a
predecessor that was never built is one line, never a failure. A --promotes-from that names no
other environment is refused, as the same value in an environment file is."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from factorstack.deploy.plan import PlanOutcome, run_plan
from factorstack.deploy.present.plan_files import read_plan
from factorstack.errors import UsageError
from tests.support.deploying import context, write_plan_for
from tests.support.fake_aws import FakeAws, change, change_set, stack, stack_id
from tests.support.fixture_build import FixtureProject

STACK = "AWS::CloudFormation::Stack"
FILES = {"NetworkStack": "network.json", "DataStack": "data.json", "WebStack": "process-web.json"}
NO_CHANGES = (
    "The submitted information didn't contain changes. Submit different information to "
    "create a change set."
)


@pytest.fixture
def summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where GitHub Actions would collect the job summary."""
    path = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(path))
    monkeypatch.delenv("IMAGE_TAG", raising=False)
    return path


def builds(root: Path, promotes_from: str | None, dev_cpu: str = "256") -> FixtureProject:
    """build/staging and build/dev (dev's web cpu as given), dev's manifest naming
    `promotes_from`, as `make templates` writes them for an environment file with that key."""
    FixtureProject(root, "staging").write()
    dev = FixtureProject(root, "dev")
    task = dev.resources("process-web.json")["WebTaskDefinition"]["Properties"]
    task["Cpu"] = dev_cpu
    dev.write()
    path = dev.folder / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["promotes_from"] = promotes_from
    path.write_text(json.dumps(manifest))
    return dev


def deployed(project: FixtureProject, *change_sets) -> FakeAws:
    """An account where the fixture is bootstrapped and deployed as built."""
    aws = FakeAws()
    aws.engine_versions = {"mysql": ["8.0.43"]}
    bucket = {"ArtifactsBucketName": "example-artifacts"}
    aws.stacks["example-bootstrap"] = stack("example-bootstrap", "CREATE_COMPLETE", outputs=bucket)
    aws.stacks["example-dev"] = stack(
        "example-dev", "UPDATE_COMPLETE", parameters={"ImageTag": "v1"}, tags={"app": "example"}
    )
    aws.nested["example-dev"] = {"": "example-dev"}
    aws.templates["example-dev"] = project.templates["root.json"]
    for path, file in FILES.items():
        name = f"example-dev-{path}-1"
        aws.stacks[name] = stack(name, "UPDATE_COMPLETE", parameters={"VpcId": "vpc-1"})
        aws.nested["example-dev"][path] = stack_id(name)
        aws.templates[stack_id(name)] = project.templates[file]
    aws.change_sets.extend(change_sets)
    return aws


MODIFY_WEB = change_set("fs-dev-x", "example-dev", [change("WebStack", STACK, "Modify", "False")])


def plan(project: FixtureProject, aws: FakeAws, **options) -> tuple[PlanOutcome, str]:
    ctx, console = context(project.root, lambda _target: aws)
    outcome = run_plan(ctx, [], **options)
    return outcome, console.export_text()


def test_a_plan_shows_what_differs_from_its_predecessor(tmp_path: Path, summary: Path) -> None:
    dev = builds(tmp_path, "staging", dev_cpu="1024")
    outcome, printed = plan(dev, deployed(dev, MODIFY_WEB))
    assert outcome.changed
    line = "process-web.json  WebTaskDefinition.Cpu  256 → 1024"
    assert "parity staging → dev: 5 templates: 4 identical, 1 differ" in printed
    assert f"  {line}" in printed
    markdown = (dev.folder / "changeset.md").read_text()
    assert "### Parity `staging` → `dev`" in markdown
    assert f"- `{line}`" in markdown
    assert "### Parity `staging` → `dev`" in summary.read_text()  # the CI job summary
    recorded = read_plan(dev.folder, "dev").parity
    assert recorded is not None
    assert (recorded["from"], recorded["to"], recorded["lines"]) == ("staging", "dev", [line])
    assert recorded["more"] == 0 and recorded["note"] is None


def test_without_a_predecessor_there_is_no_section(tmp_path: Path, summary: Path) -> None:
    dev = builds(tmp_path, None, dev_cpu="1024")
    _, printed = plan(dev, deployed(dev, MODIFY_WEB))
    assert "parity" not in printed.lower()
    assert "Parity" not in (dev.folder / "changeset.md").read_text()
    assert read_plan(dev.folder, "dev").parity is None


def test_the_command_line_names_a_predecessor_too(tmp_path: Path, summary: Path) -> None:
    dev = builds(tmp_path, None)
    _, printed = plan(dev, deployed(dev, MODIFY_WEB), promotes_from="staging")
    assert "parity staging → dev: 5 templates: 5 identical" in printed


def test_a_long_list_is_cut_with_the_command_that_shows_it_all(
    tmp_path: Path, summary: Path
) -> None:
    FixtureProject(tmp_path, "staging").write()
    dev = FixtureProject(tmp_path, "dev")
    container = dev.resources("process-web.json")["WebTaskDefinition"]["Properties"]
    container["ContainerDefinitions"][0]["Environment"] = [
        {"Name": f"V{n:02}", "Value": "x"} for n in range(20)
    ]
    dev.write()
    _, printed = plan(dev, deployed(dev, MODIFY_WEB), promotes_from="staging")
    markdown = (dev.folder / "changeset.md").read_text()
    assert markdown.count("- `process-web.json  WebTaskDefinition.ContainerDefinitions") == 12
    assert "- and 8 more (`factorstack parity staging dev`)" in markdown
    assert "and 8 more (`factorstack parity staging dev`)" in printed
    assert read_plan(dev.folder, "dev").parity["more"] == 8  # type: ignore[index]


def test_a_predecessor_never_built_is_one_line_and_the_plan_goes_on(
    tmp_path: Path, summary: Path
) -> None:
    dev = FixtureProject(tmp_path, "dev")
    dev.write()
    shutil.copy(tmp_path / "environments/dev.yaml", tmp_path / "environments/staging.yaml")
    outcome, printed = plan(dev, deployed(dev, MODIFY_WEB), promotes_from="staging")
    assert outcome.changed
    [shown] = [line for line in printed.splitlines() if line.startswith("parity")]
    assert shown.startswith("parity staging → dev: not compared: ")
    assert shown.endswith("build for `staging` is missing (run `make templates`)")
    assert "not compared" in (dev.folder / "changeset.md").read_text()


def test_a_plan_without_changes_still_shows_parity(tmp_path: Path, summary: Path) -> None:
    dev = builds(tmp_path, "staging", dev_cpu="1024")
    nothing = change_set("fs-dev-x", "example-dev", status="FAILED", reason=NO_CHANGES)
    outcome, printed = plan(dev, deployed(dev, nothing))
    assert outcome == PlanOutcome(changed=False)
    assert "process-web.json  WebTaskDefinition.Cpu  256 → 1024" in printed
    markdown = (dev.folder / "changeset.md").read_text()
    assert "no changes" in markdown and "### Parity `staging` → `dev`" in markdown
    assert "### Parity" in summary.read_text()


def test_a_predecessor_whose_file_was_removed_since_the_build_says_so_and_the_plan_goes_on(
    tmp_path: Path, summary: Path
) -> None:
    """The build's own promotes_from passed the config check when it was built; its file may
    be gone since (the build of dev is still current): a note, as for one never built."""
    dev = builds(tmp_path, "staging")
    (tmp_path / "environments/staging.yaml").unlink()
    outcome, printed = plan(dev, deployed(dev, MODIFY_WEB))
    assert outcome.changed
    [shown] = [line for line in printed.splitlines() if line.startswith("parity")]
    assert shown == (
        "parity staging → dev: not compared: environments/staging.yaml: no such environment "
        "(defined: dev; create environments/staging.yaml to add one)"
    )


@pytest.mark.parametrize(
    ("other", "refusal"),
    [
        ("qa", "--promotes-from qa: no environment 'qa' (use staging, or drop --promotes-from)"),
        ("dev", "--promotes-from dev: names this environment itself (name the one before it)"),
    ],
)
def test_the_command_line_must_name_another_environment(
    tmp_path: Path, summary: Path, other: str, refusal: str
) -> None:
    """As an environment file's promotes_from must (config check, exit 2): refused before
    AWS is asked, and the last plan stays (not: the plan goes on with a note, or without its
    parity section)."""
    dev = builds(tmp_path, None)
    earlier = write_plan_for(dev.folder)

    def no_aws(_target: object) -> FakeAws:
        raise AssertionError("AWS was asked")

    ctx, _ = context(dev.root, no_aws)
    for applying in (False, True):  # plan, and execute's plan
        with pytest.raises(UsageError) as refused:
            run_plan(ctx, [], applying=applying, promotes_from=other)
        assert refused.value.lines == [refusal] and refused.value.exit_code == 2
    assert read_plan(dev.folder, "dev") == earlier


def test_the_command_line_refusal_names_no_other_when_there_is_none(
    tmp_path: Path, summary: Path
) -> None:
    dev = FixtureProject(tmp_path, "dev")
    dev.write()
    ctx, _ = context(dev.root, lambda _target: FakeAws())
    with pytest.raises(UsageError) as refused:
        run_plan(ctx, [], promotes_from="nosuch")
    assert refused.value.lines == [
        "--promotes-from nosuch: no environment 'nosuch' (drop --promotes-from)"
    ]
