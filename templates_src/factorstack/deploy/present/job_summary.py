"""The CI job summary (GitHub Actions' GITHUB_STEP_SUMMARY): what a plan reviewed, how an apply
ended and why a command refused, so the apply job's page says what happened, not only the plan
job's. Appended: one job may run several commands. Nothing here holds a secret's value: the
review, a stack's outputs and factorstack's own error lines never carry one."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

SUMMARY_VARIABLE = "GITHUB_STEP_SUMMARY"


def append_job_summary(markdown: str) -> None:
    """Add a block to the job summary when GitHub provides one; elsewhere nothing."""
    path = os.environ.get(SUMMARY_VARIABLE)
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(markdown.rstrip("\n") + "\n\n")
    except OSError as error:  # a summary it cannot write must not hide what happened
        print(f"{SUMMARY_VARIABLE}: not written ({error.strerror})", file=sys.stderr)


def outcome_markdown(stack_name: str, status: str, outputs: Mapping[str, str]) -> str:
    """How a stack ended after an apply, with its outputs."""
    lines = [f"### {stack_name}: {status}"]
    if outputs:
        lines += ["", "| output | value |", "| --- | --- |"]
        lines += [f"| {key} | `{value}` |" for key, value in sorted(outputs.items())]
    return "\n".join(lines)


def stopped_markdown(command: str, lines: Sequence[str], exit_code: int) -> str:
    """A command that stopped with one of factorstack's own errors, as it printed it."""
    body = "\n".join(lines)
    title = f"factorstack {command}".rstrip()
    return f"### {title}: exit {exit_code}\n\n```\n{body}\n```"
