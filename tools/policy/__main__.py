"""`python -m tools.policy`: the policy gate over build/ (`make policy` runs it).

Exit 0 when every finding is justified on its resource, 1 when one is not (or a justification
does not say why), 2 when the gate could not run (no build/, a checker missing or failing).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from tools.policy.checkers import Tools, run
from tools.policy.findings import ReportError
from tools.policy.gate import judge, passes, render
from tools.policy.templates import stage, template_files

ROOT = Path(__file__).resolve().parents[2]


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.policy", description=__doc__)
    parser.add_argument("--build", type=Path, default=ROOT / "build")
    parser.add_argument("--checkov", type=Path, default=ROOT / ".venv-checkov/bin/checkov")
    parser.add_argument("--guard", type=Path, default=ROOT / ".venv-cfnguard/guard")
    return parser.parse_args(argv)


def gate(build: Path, tools: Tools) -> tuple[list[str], bool]:
    """The gate's lines (the last one is the verdict) and whether it passed."""
    with tempfile.TemporaryDirectory(prefix="policy-scan-") as scan:
        justifications = stage(build, Path(scan))
        checkov, guard = run(tools, Path(scan))
    outcomes = [judge(checkov, justifications.accepted), judge(guard, justifications.accepted)]
    return render(outcomes, justifications), passes(outcomes, justifications)


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    tools = Tools(args.checkov, args.guard)
    if not template_files(args.build):
        print(f"policy: no templates in {args.build}/ENV/: run `make templates` first")
        return 2
    if missing := tools.missing():
        print(f"policy: {', '.join(missing)} missing: run `make policy` (it installs them)")
        return 2
    started = time.monotonic()
    try:
        lines, passed = gate(args.build, tools)
    except ReportError as error:
        print(f"policy: {error}")
        return 2
    print("\n".join(lines))
    elapsed = time.monotonic() - started
    print(f"policy: {len(template_files(args.build))} templates checked in {elapsed:.1f} s")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
