"""Running the two checkers side by side, each from its own virtual environment, offline.

One checkov run and one cfn-guard run cover every environment's folder at once; both start
together, so the gate takes about as long as the slower of the two.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tools.policy.findings import Report, ReportError, checkov_report, guard_report
from tools.policy.guard_rules import applicable, resource_types

# checkov's exit codes: 0 all passed, 1 a check failed. cfn-guard's: 0 all passed, 19 a rule
# failed. Anything else means the checker itself failed.
CHECKOV_OK = (0, 1)
GUARD_OK = (0, 19)
# No bridgecrew mapping download and no PyPI version check at start: the gate runs offline.
OFFLINE = {"CKV_SKIP_PACKAGE_UPDATE_CHECK": "true", "BC_SKIP_MAPPING": "TRUE"}


@dataclass(frozen=True)
class Tools:
    """checkov's executable; the folder `unpack_guard.py` filled (cfn-guard and rules/)."""

    checkov: Path
    guard: Path

    def missing(self) -> list[str]:
        wanted = [self.checkov, self.guard / "cfn-guard", self.guard / "rules" / "cfn-guard"]
        return [str(path) for path in wanted if not path.exists()]


def checkov_command(tools: Tools, scan: Path) -> list[str]:
    return [
        str(tools.checkov),
        *("--directory", str(scan), "--framework", "cloudformation"),
        *("--output", "json", "--compact", "--skip-download"),
    ]


def guard_command(tools: Tools, scan: Path) -> list[str]:
    """cfn-guard with the rules that report on a resource type the templates hold."""
    rules = applicable(tools.guard / "rules", resource_types(scan))
    return [
        str(tools.guard / "cfn-guard"),
        "validate",
        *(argument for rule in rules for argument in ("--rules", str(rule))),
        *("--data", str(scan), "--show-summary", "none", "--output-format", "json"),
    ]


def start(command: list[str], out: Path) -> subprocess.Popen[bytes]:
    """The checker writing its report to out and its messages to out.err."""
    with out.open("wb") as sink, out.with_suffix(".err").open("wb") as messages:
        return subprocess.Popen(
            command, stdout=sink, stderr=messages, env={**os.environ, **OFFLINE}
        )


def finish(name: str, process: subprocess.Popen[bytes], out: Path, ok: tuple[int, ...]) -> str:
    """The report, or the checker's last message when it failed rather than found."""
    if process.wait() not in ok:
        messages = out.with_suffix(".err").read_text(errors="replace").strip().splitlines()
        last = messages[-1] if messages else "no message"
        raise ReportError(f"{name} failed (exit {process.returncode}): {last}")
    return out.read_text()


def run(tools: Tools, scan: Path) -> tuple[Report, Report]:
    """checkov's and cfn-guard's reports on scan/ENV/*.json."""
    with tempfile.TemporaryDirectory(prefix="policy-") as work:
        checkov_out, guard_out = Path(work, "checkov.json"), Path(work, "guard.json")
        checkov = start(checkov_command(tools, scan), checkov_out)
        guard = start(guard_command(tools, scan), guard_out)
        try:
            checkov_text = finish("checkov", checkov, checkov_out, CHECKOV_OK)
            guard_text = finish("cfn-guard", guard, guard_out, GUARD_OK)
        finally:
            for process in (checkov, guard):
                if process.poll() is None:
                    process.kill()
                    process.wait()
        return checkov_report(checkov_text), guard_report(guard_text)
