"""The REAL sample app (the repo's app.yaml and environments/dev.yaml) deployed end to end on the
local moto server: build, bootstrap, placeholder parameters and secrets, placeholder images,
release, build, plan, apply, re-plan."""

from __future__ import annotations

from pathlib import Path

import pytest

from factorstack.build import build
from factorstack.cli import main
from factorstack.deploy.apply import run_apply
from factorstack.deploy.bootstrap import run_bootstrap
from factorstack.deploy.local.server import LocalAws
from factorstack.deploy.plan import run_plan
from tests.support.fixture_build import ACCOUNT, REGION, dev_context
from tests.support.sample import copy_sample, edit_yaml

pytestmark = pytest.mark.usefixtures("lint_assumed_clean")

STACK = "AWS::CloudFormation::Stack"
NESTED = {  # the 10 nested stacks of the sample app
    "NetworkStack",
    "DataStack",
    "ClusterStack",
    "AlertsStack",
    "ReleaseStack",
    "RotationStack",
    "WebStack",
    "WorkerStack",
    "SchedulerStack",
    "AutoscalingStack",
}


def test_the_sample_app_deploys_from_nothing_and_then_has_no_changes(
    local_aws: LocalAws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")  # no docker: local-images stands in for it
    root = copy_sample(tmp_path / "repo")
    edit_yaml(root / "environments/dev.yaml", lambda d: d.update(account=ACCOUNT, region=REGION))
    build(root, ["dev"])
    run_bootstrap(dev_context(root))

    assert main(["local-seed", "dev", "--root", str(root)]) == 0  # APP_URL and STRIPE
    assert main(["local-images", "dev", "--root", str(root), "--tag", "v1"]) == 0
    assert main(["release", "dev", "--root", str(root), "--no-build", "--tag", "v1"]) == 0
    build(root, ["dev"])  # the task definitions now pin the released digests

    planned = run_plan(dev_context(root), [])
    assert planned.changed and planned.record is not None and planned.review is not None
    assert planned.record.change_set_type == "CREATE"
    nested = [
        row
        for row in planned.review.rows
        if row.resource_type == STACK and row.stack == "example-dev"
    ]
    assert sorted(row.logical_id for row in nested) == sorted(NESTED)
    assert {row.action for row in nested} == {"Add"}

    stack = run_apply(dev_context(root))
    assert stack.status == "CREATE_COMPLETE"
    outputs = stack.outputs
    assert outputs.get("AppUrl")
    assert outputs["WebServiceName"] == "web"
    assert outputs["ImageTag"] == "v1"
    assert "AlarmTopicArn" not in outputs  # dev goes without an alarm topic (notify.topic: false)

    again = run_plan(dev_context(root), [])
    assert not again.changed
