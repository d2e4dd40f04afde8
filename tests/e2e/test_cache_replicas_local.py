"""The deployed sample's cache gains its first replica and later loses it, on the local
endpoint: each time the plan records a follow-up (ElastiCache refuses failover and the replica
count changing in one update), apply runs it, and the stack ends with the environment's values
and no further changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from factorstack.build import build
from factorstack.deploy.apply import run_apply
from factorstack.deploy.plan import run_plan
from tests.support.fixture_build import dev_context
from tests.support.sample import edit_yaml


def _replicas(root: Path, replicas: int) -> None:
    edit_yaml(root / "environments/dev.yaml", lambda d: d["cache"].update(replicas=replicas))
    build(root, ["dev"])


def _cache_parameters(stack_parameters: dict[str, str]) -> tuple[str, str]:
    return stack_parameters["CacheNodes"], stack_parameters["CacheFailover"]


@pytest.mark.usefixtures("lint_assumed_clean")
def test_a_replica_comes_before_failover_and_failover_goes_before_the_replica(
    deployed_sample: Path,
) -> None:
    root = deployed_sample

    _replicas(root, 1)
    ctx = dev_context(root)
    planned = run_plan(ctx, [])
    assert planned.changed and planned.record is not None
    assert planned.record.follow_up == {"CacheFailover": "true"}
    shown = ctx.console.export_text()
    assert "a follow-up update sets CacheFailover to true (ElastiCache turns failover on" in shown
    ctx = dev_context(root)
    stack = run_apply(ctx)
    assert _cache_parameters(dict(stack.parameters)) == ("2", "true")
    shown = ctx.console.export_text()
    assert "follow-up update of example-dev: CacheFailover=true" in shown
    assert not run_plan(dev_context(root), []).changed

    _replicas(root, 0)
    planned = run_plan(dev_context(root), [])
    assert planned.record is not None and planned.record.follow_up == {"CacheNodes": "1"}
    stack = run_apply(dev_context(root))
    assert _cache_parameters(dict(stack.parameters)) == ("1", "false")
    assert not run_plan(dev_context(root), []).changed
