"""The cost delta a plan's review shows: per resource, old templates against new, priced from one
book; silent when the change moves no cost."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from factorstack.cost import Assumptions, Estimate, compare, priced, shipped, usages
from factorstack.deploy.present.cost import delta_json, delta_lines
from tests.support.sample import copy_sample
from tests.support.templates import templates_of


def tree_of(files: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    root = files["root.json"]
    tree = {"": root}
    for logical, body in root["Resources"].items():
        if body["Type"] == "AWS::CloudFormation::Stack":
            tree[logical] = files[body["Properties"]["TemplateURL"]]
    return tree


def estimate_of(tree: dict[str, dict[str, Any]]) -> Estimate:
    assumptions = Assumptions()
    return priced(usages(tree, assumptions), shipped("eu-west-1"), assumptions)


@pytest.fixture(scope="module")
def prod_tree(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    return tree_of(templates_of(copy_sample(tmp_path_factory.mktemp("sample")), "prod"))


def resized(tree: dict[str, dict[str, Any]], cpu: str) -> dict[str, dict[str, Any]]:
    changed = copy.deepcopy(tree)
    web = next(t for t in changed.values() if "WebTaskDefinition" in t.get("Resources", {}))
    web["Resources"]["WebTaskDefinition"]["Properties"]["Cpu"] = cpu
    return changed


def test_a_cpu_change_names_the_size_and_the_delta_at_both_task_counts(
    prod_tree: dict[str, dict[str, Any]],
) -> None:
    before = estimate_of(prod_tree)
    after = estimate_of(resized(prod_tree, "2048"))
    delta = compare(before, after)
    # prod's web: 2-10 tasks; 1 vCPU more a task = 730 x 0.04048 = $29.55 a task
    assert [c.line() for c in delta.changes] == [
        "web cpu 1024 → 2048: +$59.10/month at 2 tasks, +$295.50 at 10"
    ]
    lines = delta_lines(delta)
    assert lines[0] == "web cpu 1024 → 2048: +$59.10/month at 2 tasks, +$295.50 at 10"
    assert lines[1].startswith(
        f"monthly cost: ${before.total:,.2f} → ${after.total:,.2f} (+$59.10) at the minimum"
    )
    assert "shipped price table, eu-west-1, dated 2026-11-26" in lines[1]
    recorded = delta_json(delta)
    assert recorded is not None
    assert recorded["changes"] == [
        {
            "resource": "web",
            "change": "cpu 1024 → 2048",
            "monthly_usd": 59.1,
            "monthly_max_usd": 295.5,
            "tasks": [2, 10],
        }
    ]
    # each total is rounded to the cent, so their difference may be a cent off
    assert recorded["after_monthly_usd"] - recorded["before_monthly_usd"] == pytest.approx(
        59.1, abs=0.01
    )


def test_a_change_that_moves_no_cost_says_nothing(prod_tree: dict[str, dict[str, Any]]) -> None:
    changed = copy.deepcopy(prod_tree)
    web = next(t for t in changed.values() if "WebTaskDefinition" in t.get("Resources", {}))
    web["Resources"]["WebTaskDefinition"]["Properties"]["Family"] = "renamed"
    delta = compare(estimate_of(prod_tree), estimate_of(changed))
    assert delta.silent
    assert delta_lines(delta) == []
    assert delta_json(delta) is None


def test_a_first_create_shows_the_new_total(prod_tree: dict[str, dict[str, Any]]) -> None:
    after = estimate_of(prod_tree)
    [line] = delta_lines(compare(None, after))
    assert line.startswith(f"monthly cost (new): ${after.total:,.2f}/month at the minimum task")


def test_added_and_removed_resources_are_named(prod_tree: dict[str, dict[str, Any]]) -> None:
    changed = copy.deepcopy(prod_tree)
    network = next(t for t in changed.values() if "Nat3" in t.get("Resources", {}))
    del network["Resources"]["Nat3"], network["Resources"]["Nat3Address"]
    delta = compare(estimate_of(prod_tree), estimate_of(changed))
    assert sorted(c.line() for c in delta.changes) == [
        "Nat3 removed (NAT gateway): -$35.04/month",
        "Nat3Address removed (Elastic IP): -$3.65/month",
    ]


def test_cost_delta_reads_deployed_trees(tmp_path: Path) -> None:
    """Both sides come from templates, so the old side needs no config: only what is deployed."""
    dev = tree_of(templates_of(copy_sample(tmp_path), "dev"))
    assert compare(estimate_of(dev), estimate_of(copy.deepcopy(dev))).silent
