"""`promotes_from` in an environment file: it must name another environment of the repo, and
it reaches the build's manifest, where plan reads it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from factorstack.cli import main
from factorstack.config import load_model
from tests.support.sample import edit_yaml


def _promotes_from(value: str):
    def change(data):
        data["promotes_from"] = value

    return change


def test_the_sample_prod_promotes_from_staging(sample_root: Path) -> None:
    assert load_model(sample_root, "prod").promotes_from == "staging"
    assert load_model(sample_root, "dev").promotes_from is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            "qa",
            "environments/prod.yaml: promotes_from: no environment 'qa' (use dev or staging, "
            "or remove the key)",
        ),
        (
            "prod",
            "environments/prod.yaml: promotes_from: names this environment itself (name the one "
            "before it)",
        ),
        (
            "Staging",
            "environments/prod.yaml: promotes_from: 'Staging' is not valid (it must match "
            "^[a-z][a-z0-9-]{0,19}$)",
        ),
    ],
)
def test_a_bad_promotes_from_is_one_line_exit_2(
    sample_root: Path, capsys: pytest.CaptureFixture[str], value: str, expected: str
) -> None:
    edit_yaml(sample_root / "environments/prod.yaml", _promotes_from(value))
    assert main(["--root", str(sample_root), "build", "prod", "--no-lint"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [expected]
    assert "Traceback" not in err


def test_the_manifest_records_it_for_plan(sample_root: Path) -> None:
    assert main(["--root", str(sample_root), "build", "prod", "dev", "--no-lint"]) == 0
    manifests = {
        env: json.loads((sample_root / "build" / env / "manifest.json").read_text())
        for env in ("prod", "dev")
    }
    assert manifests["prod"]["promotes_from"] == "staging"
    assert manifests["dev"]["promotes_from"] is None
