"""`./deploy.sh` itself, run as a subprocess against the moto server: the exit codes users see."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import boto3

from factorstack.local_aws.server import LocalAws
from tests.e2e.fixture_build import REGION, FixtureProject, publish_fixture_images

REPO = Path(__file__).resolve().parents[2]


def install_script(project: FixtureProject) -> Path:
    """deploy.sh at the project's root, next to a .venv that is the repo's own."""
    script = project.root / "deploy.sh"
    shutil.copy(REPO / "deploy.sh", script)
    (project.root / ".venv").symlink_to(REPO / ".venv")
    return script


def run(script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(script), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, COLUMNS="200"),
        check=False,
    )


def test_deploy_sh_plan_apply_guard_and_exit_codes(local_aws: LocalAws, project: FixtureProject):
    script = install_script(project)
    boot = subprocess.run(
        [
            str(project.root / ".venv" / "bin" / "factorstack"),
            "bootstrap",
            "dev",
            "--root",
            str(project.root),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert boot.returncode == 0, boot.stderr
    publish_fixture_images()

    planned = run(script, "dev")
    assert planned.returncode == 0, planned.stderr
    assert "Change set for example-dev: 3 Add" in planned.stdout
    assert (project.folder / "plan.json").is_file()

    applied = run(script, "dev", "--apply")
    assert applied.returncode == 0, applied.stderr
    assert "example-dev: CREATE_COMPLETE" in applied.stdout
    assert "VpcId = vpc-" in applied.stdout

    again = run(script, "dev", "--execute")
    assert again.returncode == 0, again.stderr
    assert "no changes" in again.stdout

    project.resources("data.json")["Database"]["Properties"]["DBName"] = "renamed"
    project.write()
    refused = run(script, "dev", "--execute")
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert "Database (AWS::RDS::DBInstance): replaced (offline: create-only DBName changed)" in (
        refused.stderr
    )
    assert "Traceback" not in refused.stderr

    allowed = run(script, "dev", "--execute", "--allow-replace", "Database")
    assert allowed.returncode == 0, allowed.stderr
    assert "allowed by --allow-replace" in allowed.stdout
    stack = boto3.client("cloudformation", region_name=REGION).describe_stacks(
        StackName="example-dev"
    )["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"

    nothing_to_apply = run(script, "dev", "--apply")
    assert nothing_to_apply.returncode == 2
    assert "no plan to apply" in nothing_to_apply.stderr


def test_deploy_sh_usage_and_aws_failure_exit_codes(local_aws: LocalAws, project: FixtureProject):
    script = install_script(project)
    usage = run(script)
    assert usage.returncode == 2 and "Exit codes" in usage.stderr
    no_bootstrap = run(script, "dev")
    assert no_bootstrap.returncode == 1
    assert no_bootstrap.stderr.strip() == (
        "no bootstrap stack example-bootstrap in this account and region "
        "(run `factorstack bootstrap dev` first)"
    )
    missing = run(script, "prod")
    assert missing.returncode == 2 and "build for `prod` is missing" in missing.stderr
