"""Names deploy shares with the rest of factorstack are defined once and imported, never copied."""

from __future__ import annotations

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
