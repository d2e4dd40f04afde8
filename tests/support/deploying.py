"""What deploy tests share: a context that records its output and never sleeps, and the plan
records apply starts from."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console

from factorstack.build.manifest import AwsTarget
from factorstack.deploy.aws.gateway import Gateway
from factorstack.deploy.context import Context
from factorstack.deploy.present.plan_files import PlanRecord
from tests.support.aws_answers import change_set_arn, stack_arn
from tests.support.clock import FakeClock

ROOT_CS = change_set_arn("fs-dev-x")


def context(root: Path, gateway_for: Callable[[AwsTarget], Gateway]) -> tuple[Context, Console]:
    """A context for `dev` under root, its console recording, its clock fake."""
    console = Console(record=True, width=200)
    clock = FakeClock()
    ctx = Context(
        root=root,
        environment="dev",
        console=console,
        timing=clock.timing(),
        change_set_timing=clock.timing(),
        gateway_for=gateway_for,
    )
    return ctx, console


def record(**changes: Any) -> PlanRecord:
    """A recorded plan of an UPDATE of example-dev; `changes` replace its fields."""
    base = PlanRecord(
        stack_name="example-dev",
        stack_id=stack_arn("example-dev"),
        change_set_id=ROOT_CS,
        change_set_name="fs-dev-x",
        change_set_type="UPDATE",
        stack_status="UPDATE_COMPLETE",
        stack_last_updated="2026-11-26T12:00:00+00:00",
        template_url="https://b.s3.eu-west-1.amazonaws.com/k",
        template_hashes={},
        nested_change_set_ids={},
        counts={"Modify": 1},
        rows=[],
        console_link="",
    )
    for key, value in changes.items():
        setattr(base, key, value)
    return base


def write_plan_for(folder: Path, **changes: Any) -> PlanRecord:
    """plan.json in a build folder, for that build's templates."""
    rec = record(
        template_hashes=json.loads((folder / "manifest.json").read_text())["templates"],
        **changes,
    )
    (folder / "plan.json").write_text(rec.to_json())
    return rec
