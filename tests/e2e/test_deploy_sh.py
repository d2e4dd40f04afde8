"""`./deploy.sh` itself, run as a subprocess against the moto server: the exit codes users see."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import boto3

from factorstack.deploy.local.server import LocalAws
from tests.support.fixture_build import REGION, FixtureProject, publish_fixture_images

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
    assert "apply it with `./deploy.sh dev --apply`" in planned.stdout
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
    assert "applying it now" in allowed.stdout and "--apply`" not in allowed.stdout
    stack = boto3.client("cloudformation", region_name=REGION).describe_stacks(
        StackName="example-dev"
    )["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"

    nothing_to_apply = run(script, "dev", "--apply")
    assert nothing_to_apply.returncode == 2
    assert "no plan to apply: the last plan (" in nothing_to_apply.stderr
    assert "was applied already" in nothing_to_apply.stderr

    project.resources("data.json")["Database"]["Properties"]["DBName"] = "renamed_again"
    project.write()
    planned = run(script, "dev", "--allow-replace", "Database")
    assert planned.returncode == 0, planned.stderr
    assert (project.folder / "plan.json").is_file()
    # `make templates` after a change: a new build/dev replaces the old, the plan in it too.
    shutil.rmtree(project.folder)
    project.templates["root.json"]["Description"] = "rebuilt"
    project.write()
    rebuilt = run(script, "dev", "--apply")
    assert rebuilt.returncode == 2
    assert "no plan to apply: build/dev was rebuilt after the last plan (" in rebuilt.stderr
    assert "(the templates changed; run `./deploy.sh dev` to plan them)" in rebuilt.stderr


def test_deploy_sh_usage_and_aws_failure_exit_codes(local_aws: LocalAws, project: FixtureProject):
    script = install_script(project)
    usage = run(script)
    assert usage.returncode == 2 and "Exit codes" in usage.stderr
    asked = run(script, "--help")  # asked for: stdout, exit 0, naming the passed-through options
    assert asked.returncode == 0 and asked.stderr == ""
    assert "Exit codes" in asked.stdout and "--image-tag" in asked.stdout
    for both in (["--apply", "--execute"], ["--execute", "--apply"]):  # not: the last one wins
        contradicting = run(script, "dev", *both)
        assert contradicting.returncode == 2
        assert contradicting.stderr == (
            "deploy.sh: give --apply or --execute, not both (--apply executes the last plan; "
            "--execute plans and applies in one run)\n"
        )
    for other_root in (["--root", "/tmp/other"], ["--root=/tmp/other"], ["--roo", "/tmp/other"]):
        elsewhere = run(script, "dev", *other_root)  # not: factorstack takes the last --root
        assert elsewhere.returncode == 2
        assert elsewhere.stderr == (
            f"deploy.sh: --root is not accepted: deploy.sh always deploys the checkout it "
            f"lives in ({project.root}); run the other checkout's own ./deploy.sh\n"
        )
    no_bootstrap = run(script, "dev")  # a step not done yet: exit 2
    assert no_bootstrap.returncode == 2
    assert no_bootstrap.stderr.strip() == (
        "no bootstrap stack example-bootstrap in this account and region "
        "(run `factorstack bootstrap dev` first)"
    )
    manifest_path = project.folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["account"] = "111111111111"
    manifest_path.write_text(json.dumps(manifest))
    wrong_account = run(script, "dev")  # AWS says the credentials are another account's: exit 1
    assert wrong_account.returncode == 1
    assert "wrong AWS account" in wrong_account.stderr
    project.write()
    unknown = run(script, "nosuchenv")
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == (
        "environments/nosuchenv.yaml: no such environment "
        "(defined: dev; create environments/nosuchenv.yaml to add one)"
    )
    shutil.copy(project.root / "environments/dev.yaml", project.root / "environments/prod.yaml")
    missing = run(script, "prod")
    assert missing.returncode == 2 and "build for `prod` is missing" in missing.stderr
