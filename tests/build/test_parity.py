"""`factorstack parity ENV OTHER`: which templates two builds share and which values differ,
read from build/ only; names that embed the environment are folded, not listed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from factorstack.build.parity import DIFFERS, IDENTICAL, NAMES_ONLY, ONE_SIDE, compare_builds
from factorstack.cli import main
from tests.support.fixture_build import FixtureProject


def two_builds(root: Path) -> tuple[FixtureProject, FixtureProject]:
    """build/staging and build/prod of the fixture app, their templates the same text."""
    return FixtureProject(root, "staging"), FixtureProject(root, "prod")


def write(*projects: FixtureProject) -> None:
    for project in projects:
        project.write()


def web(project: FixtureProject) -> dict[str, Any]:
    return project.resources("process-web.json")["WebTaskDefinition"]["Properties"]


def set_account(project: FixtureProject, account: str) -> None:
    """Rewrite the manifest as if the environment lived in another account."""
    path = project.folder / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["account"] = account
    path.write_text(json.dumps(manifest))


def lines(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> list[str]:
    assert main(["--root", str(root), "parity", *args]) == 0
    return capsys.readouterr().out.splitlines()


def test_identical_environments_show_every_template_identical(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    staging, prod = two_builds(tmp_path)
    write(staging, prod)
    parity = compare_builds(tmp_path, "staging", "prod")
    assert {pair.status for pair in parity.templates} == {IDENTICAL}
    assert len(parity.templates) == 5
    assert parity.differences == [] and parity.one_sided == []
    out = lines(tmp_path, capsys, "staging", "prod")
    assert "5 templates: 5 identical" in out
    assert not any(line.startswith("what differs") for line in out)


def test_a_cpu_change_shows_exactly_that_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    staging, prod = two_builds(tmp_path)
    web(prod)["Cpu"] = "1024"
    write(staging, prod)
    out = lines(tmp_path, capsys, "staging", "prod")
    assert out[out.index("what differs (staging → prod):") + 1 :] == [
        "process-web.json  WebTaskDefinition.Cpu  256 → 1024"
    ]
    web_row = next(line for line in out if line.startswith("process-web.json "))
    assert web_row.split()[1] != web_row.split()[2] and web_row.endswith("differs")
    assert "5 templates: 4 identical, 1 differ" in out


def test_values_that_only_embed_the_environment_or_account_are_folded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    staging, prod = two_builds(tmp_path)
    web(staging)["Family"] = "example-staging-web"
    web(prod)["Family"] = "example-prod-web"
    staging.templates["process-web.json"]["Description"] = "example staging web (111111111111)"
    prod.templates["process-web.json"]["Description"] = "example prod web (222222222222)"
    write(staging, prod)
    set_account(staging, "111111111111")
    set_account(prod, "222222222222")
    parity = compare_builds(tmp_path, "staging", "prod")
    assert parity.differences == []
    assert parity.folded == 2
    statuses = {pair.file: pair.status for pair in parity.templates}
    assert statuses["process-web.json"] == NAMES_ONLY
    out = lines(tmp_path, capsys, "staging", "prod")
    said = [line for line in out if line.startswith("normalised before comparing")]
    assert said == [
        "normalised before comparing: environment staging/prod, account "
        "111111111111/222222222222 (2 values differed only by these, not listed)"
    ]


def test_a_name_inside_a_longer_word_is_not_normalised(tmp_path: Path) -> None:
    dev, prod = FixtureProject(tmp_path, "dev"), FixtureProject(tmp_path, "prod")
    web(dev)["Family"] = "device"
    web(prod)["Family"] = "prodice"
    write(dev, prod)
    parity = compare_builds(tmp_path, "dev", "prod")
    assert [d.line() for d in parity.differences] == [
        "process-web.json  WebTaskDefinition.Family  device → prodice"
    ]


def test_resources_outputs_and_templates_on_one_side_only(tmp_path: Path) -> None:
    staging, prod = two_builds(tmp_path)
    prod.resources("network.json")["WebAcl"] = {"Type": "AWS::WAFv2::WebACL", "Properties": {}}
    prod.templates["network.json"]["Outputs"]["WebAclArn"] = {"Value": {"Ref": "WebAcl"}}
    prod.templates["endpoints.json"] = {"Resources": {}}
    del staging.resources("data.json")["DatabaseSecret"]
    write(staging, prod)
    parity = compare_builds(tmp_path, "staging", "prod")
    assert [o.line() for o in parity.one_sided] == [
        "data.json  DatabaseSecret: only in prod",
        "endpoints.json: only in prod",
        "network.json  Outputs.WebAclArn: only in prod",
        "network.json  WebAcl: only in prod",
    ]
    statuses = {pair.file: pair.status for pair in parity.templates}
    assert statuses["endpoints.json"] == ONE_SIDE and statuses["network.json"] == DIFFERS


def test_values_read_as_a_reviewer_names_them(tmp_path: Path) -> None:
    """A nested stack's parameter, a container's variable by its name, a property one side
    lacks, a NoEcho parameter's value never shown."""
    staging, prod = two_builds(tmp_path)
    for project, cpu, level in ((staging, "512", "info"), (prod, "1024", "warning")):
        root = project.templates["root.json"]
        root["Resources"]["WebStack"]["Properties"]["Parameters"]["Cpu"] = cpu
        root["Parameters"]["DbPassword"] = {"Type": "String", "NoEcho": True, "Default": level}
        container = web(project)["ContainerDefinitions"][0]
        container["Environment"] = [
            {"Name": "APP_NAME", "Value": "example"},
            {"Name": "LOG_LEVEL", "Value": level},
        ]
    prod.resources("data.json")["Database"]["Properties"]["MultiAZ"] = True
    write(staging, prod)
    parity = compare_builds(tmp_path, "staging", "prod")
    assert [d.line() for d in parity.differences] == [
        "data.json  Database.MultiAZ  (none) → true",
        "process-web.json  WebTaskDefinition.ContainerDefinitions[web].Environment[LOG_LEVEL]"
        ".Value  info → warning",
        "root.json  Parameters.DbPassword.Default  (NoEcho) → (NoEcho)",
        "WebStack  Cpu  512 → 1024",  # a value root.json passes a shared child
    ]


def test_lists_of_other_lengths_show_what_was_added(tmp_path: Path) -> None:
    staging, prod = two_builds(tmp_path)
    web(prod)["RequiresCompatibilities"] = ["FARGATE", "EC2"]
    write(staging, prod)
    parity = compare_builds(tmp_path, "staging", "prod")
    assert [d.line() for d in parity.differences] == [
        "process-web.json  WebTaskDefinition.RequiresCompatibilities[]  (none) → EC2"
    ]


def test_lint_justifications_are_counted_not_listed(tmp_path: Path) -> None:
    staging, prod = two_builds(tmp_path)
    why = {"guard": {"SuppressedRules": ["rds_instance_multi_az_support_check"]}}
    staging.resources("data.json")["Database"]["Metadata"] = why
    write(staging, prod)
    parity = compare_builds(tmp_path, "staging", "prod")
    assert parity.differences == [] and parity.notes == 1


def test_json_has_stable_keys_and_the_values_as_in_the_templates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    staging, prod = two_builds(tmp_path)
    web(prod)["Cpu"] = 1024
    prod.templates["endpoints.json"] = {"Resources": {}}
    write(staging, prod)
    data = json.loads("\n".join(lines(tmp_path, capsys, "staging", "prod", "--json")))
    assert sorted(data) == [
        "differences",
        "folded",
        "from",
        "lint_notes",
        "normalised",
        "only_in",
        "summary",
        "templates",
        "to",
    ]
    assert (data["from"], data["to"]) == ("staging", "prod")
    assert data["summary"] == {"identical": 4, "names_only": 0, "differs": 1, "one_side": 1}
    assert data["differences"] == [
        {"file": "process-web.json", "path": "WebTaskDefinition.Cpu", "from": "256", "to": 1024}
    ]
    assert data["only_in"] == [{"file": "endpoints.json", "path": None, "environment": "prod"}]
    assert data["normalised"] == [{"kind": "environment", "from": "staging", "to": "prod"}]
    endpoints = next(t for t in data["templates"] if t["file"] == "endpoints.json")
    assert endpoints["from_sha256"] is None and endpoints["status"] == "one_side"
    manifest = json.loads((prod.folder / "manifest.json").read_text())
    assert endpoints["to_sha256"] == manifest["templates"]["endpoints.json"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["staging", "qa"],
            "environments/qa.yaml: no such environment (defined: prod, staging; "
            "create environments/qa.yaml to add one)",
        ),
        (["staging", "staging"], "factorstack parity: name two environments, not staging twice"),
        (["staging", "prod"], "build/prod/manifest.json: build for `prod` is missing"),
    ],
)
def test_a_bad_environment_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    staging, _prod = two_builds(tmp_path)
    write(staging)
    assert main(["--root", str(tmp_path), "parity", *args]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and expected in err[0]


def test_an_altered_template_is_refused_like_deploy_refuses_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    staging, prod = two_builds(tmp_path)
    write(staging, prod)
    (prod.folder / "data.json").write_text("{}")
    assert main(["--root", str(tmp_path), "parity", "staging", "prod"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.endswith("data.json: changed since it was built (run `make templates`)")


def test_a_build_older_than_its_config_is_refused_like_cost_refuses_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    staging, prod = two_builds(tmp_path)
    write(staging, prod)
    env_file = tmp_path / "environments/prod.yaml"
    env_file.write_text(env_file.read_text() + "# edited after the build\n")
    assert main(["--root", str(tmp_path), "parity", "staging", "prod"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.endswith(
        "build is older than app.yaml, environments/prod.yaml or releases/prod.json "
        "(run `make templates`)"
    )


def test_a_variable_on_one_side_only_is_one_line(tmp_path: Path) -> None:
    staging, prod = two_builds(tmp_path)
    web(prod)["ContainerDefinitions"][0]["Environment"] = [{"Name": "DEBUG", "Value": "1"}]
    write(staging, prod)
    parity = compare_builds(tmp_path, "staging", "prod")
    assert [d.line() for d in parity.differences] == [
        "process-web.json  WebTaskDefinition.ContainerDefinitions[web].Environment[DEBUG]  "
        "(none) → 1"
    ]
