"""Names deploy shares with the rest of factorstack are defined once and imported, never copied."""

from __future__ import annotations

from pathlib import Path

from factorstack import build, errors, model
from factorstack.build import manifest
from factorstack.deploy import commands, package, plan
from factorstack.deploy.decide import guard, images, parameters
from factorstack.stacks import bootstrap as bootstrap_template
from factorstack.stacks import common, root


def test_deploy_imports_the_names_the_build_writes() -> None:
    assert plan.BUCKET_OUTPUT is bootstrap_template.BUCKET_OUTPUT
    assert manifest.MANIFEST_FILE is build.MANIFEST_FILE
    assert manifest.ROOT_FILE is root.ROOT_FILE
    assert plan.ROOT_FILE is root.ROOT_FILE
    assert parameters.CREATE_FIRST_WITH is common.CREATE_FIRST_WITH
    assert manifest.sha256 is build.sha256 and package.sha256 is build.sha256
    assert images.repository_name is model.repository_name
    assert commands.EXIT_CODES_HELP is errors.EXIT_CODES_HELP


def test_the_guard_splits_findings_once() -> None:
    found = [
        guard.Finding("s", "Database", "AWS::RDS::DBInstance", ["removed"]),
        guard.Finding("s", "Logs", "AWS::Logs::LogGroup", ["removed"]),
    ]
    verdict = guard.judge(found, ["Logs"])
    assert [f.logical_id for f in verdict.blocked] == ["Database"]
    assert [f.logical_id for f in verdict.allowed] == ["Logs"]
    assert verdict.findings == found


def test_the_day_two_commands_find_what_the_root_stack_outputs(sample_root: Path) -> None:
    """status, run and logs look up the root's documented outputs, and take the value of each
    `<Process>ServiceName` for the process's name: the service is named after its process."""
    from factorstack.deploy.decide import deployed
    from tests.support.templates import model_of, templates_of

    built = templates_of(sample_root, "dev")
    outputs = built[root.ROOT_FILE]["Outputs"]
    for name in (deployed.CLUSTER_OUTPUT, deployed.URL_OUTPUT, deployed.IMAGE_TAG_OUTPUT):
        assert name in outputs
    processes = [p.name for p in model_of(sample_root, "dev").processes]
    service_outputs = [k for k in outputs if k.endswith(deployed.SERVICE_OUTPUT_SUFFIX)]
    assert len(service_outputs) == len(processes)
    for process in processes:
        services = [
            r
            for r in built[f"process-{process}.json"]["Resources"].values()
            if r["Type"] == "AWS::ECS::Service"
        ]
        assert [s["Properties"]["ServiceName"] for s in services] == [process]
