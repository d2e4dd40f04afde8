"""Adding a process type to a deployed app on the local endpoint, as README "Adding a process
type" says: the new process stack reads its log group from the cluster stack's new output, which
CloudFormation gives it by updating the cluster stack first."""

from __future__ import annotations

from pathlib import Path

import boto3

from factorstack.build import build
from factorstack.cli import main
from factorstack.deploy.apply import run_apply
from factorstack.deploy.plan import run_plan
from tests.support.fixture_build import REGION, dev_context
from tests.support.sample import edit_yaml


def test_a_process_added_to_a_deployed_app_deploys(deployed_sample: Path) -> None:
    root = deployed_sample
    edit_yaml(
        root / "app.yaml",
        lambda d: d["processes"].update(
            mailer={"docker": "docker/queue_worker", "command": ["php", "artisan", "mail:work"]}
        ),
    )
    build(root, ["dev"])
    assert main(["bootstrap", "dev", "--root", str(root)]) == 0  # its image repository
    assert main(["local-images", "dev", "--root", str(root), "--tag", "v1"]) == 0
    assert main(["release", "dev", "--root", str(root), "--no-build", "--tag", "v1"]) == 0
    build(root, ["dev"])
    planned = run_plan(dev_context(root), [])
    assert planned.changed
    stack = run_apply(dev_context(root))
    assert stack.status == "UPDATE_COMPLETE"
    assert stack.outputs["MailerServiceName"] == "mailer"
    ecs = boto3.client("ecs", region_name=REGION)
    cluster = stack.outputs["ClusterName"]
    assert ecs.describe_services(cluster=cluster, services=["mailer"])["services"]
    assert not run_plan(dev_context(root), []).changed
