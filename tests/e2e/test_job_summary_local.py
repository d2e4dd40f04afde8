"""The CI job summary says what every deploy command did: the plan's review, how the apply
ended with the stack's outputs, and why a command stopped. Before, only the plan wrote to it,
so the apply job's page was blank whether it succeeded or not."""

from __future__ import annotations

from pathlib import Path

import pytest

from factorstack.build import build
from factorstack.cli import main
from tests.support.sample import edit_yaml


def test_plan_apply_and_a_refusal_all_reach_the_job_summary(
    deployed_sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = deployed_sample
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    edit_yaml(
        root / "environments/dev.yaml",
        lambda d: d["processes"]["web"].update(cpu=512, memory=1024),
    )
    build(root, ["dev"])
    assert main(["plan", "dev", "--root", str(root)]) == 0
    assert main(["apply", "dev", "--root", str(root)]) == 0
    assert main(["apply", "dev", "--root", str(root)]) == 2  # that plan ran already
    text = summary.read_text()
    review, applied, stopped = (
        text.index("## Change set for `example-dev`"),
        text.index("### example-dev: UPDATE_COMPLETE"),
        text.index("### factorstack apply: exit 2"),
    )
    assert review < applied < stopped  # in the order the commands ran
    assert "| WebServiceName | `web` |" in text
    assert "the last plan" in text[stopped:] and "was applied already" in text[stopped:]
