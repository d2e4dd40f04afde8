"""E9005 fires on an exported slow query log that RDS would leave empty, through the same
lint_templates call the build makes, and stays quiet on the data stack factorstack renders."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from factorstack.lint import lint_templates
from tests.support.templates import templates_of

REPO = Path(__file__).resolve().parents[2]


def _with_parameters(data: dict[str, Any], parameters: dict[str, str]) -> dict[str, Any]:
    changed = copy.deepcopy(data)
    changed["Resources"]["DatabaseParameterGroup"]["Properties"]["Parameters"] = parameters
    return changed


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[str, str]]]:
    data = templates_of(REPO, "dev")["data.json"]
    folder = tmp_path_factory.mktemp("e9005")
    cases = {
        "fixed": data,
        "table-output": _with_parameters(
            data, {"require_secure_transport": "1", "slow_query_log": "1"}
        ),
        "log-off": _with_parameters(
            data, {"require_secure_transport": "1", "slow_query_log": "0", "log_output": "FILE"}
        ),
    }
    paths = {}
    for name, template in cases.items():
        paths[name] = folder / f"{name}.json"
        paths[name].write_text(json.dumps(template))
    found = lint_templates(list(paths.values()), ["eu-west-1"])
    return {
        name: [(f.rule, f.message) for f in found if Path(f.file).name == path.name]
        for name, path in paths.items()
    }


def test_e9005_flags_a_slow_query_log_written_to_a_table(findings) -> None:
    assert findings["table-output"] == [
        (
            "E9005",
            "Database exports slowquery but DatabaseParameterGroup: log_output is not FILE "
            "(RDS would export nothing)",
        )
    ]


def test_e9005_flags_a_slow_query_log_that_is_off(findings) -> None:
    assert findings["log-off"] == [
        (
            "E9005",
            "Database exports slowquery but DatabaseParameterGroup: slow_query_log is not 1 "
            "(RDS would export nothing)",
        )
    ]


def test_the_rendered_data_stack_passes(findings) -> None:
    assert findings["fixed"] == []
