"""`make bench`: how long `factorstack build` takes and how much memory it needs, on this machine.

Reported figures only: nothing here fails a build. Run it with the machine otherwise idle.

Each measurement runs the real command in a fresh process (interpreter start and imports
included) and reads its peak resident memory from the kernel. The baseline is what people do
without factorstack: the cfn-lint command line once per template.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.app_generator import write_generated_app  # noqa: E402

BIN = Path(sys.executable).parent
TARGETS = {"build": 3.0, "rebuild": 1.0, "generated": 30.0, "memory_mib": 250.0}


def run(args: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one command, which must succeed."""
    started = time.perf_counter()
    child = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(args)} failed: {child.stderr.read().decode()}")
    return elapsed, usage.ru_maxrss / 1024


def line(label: str, seconds: float, target: float | None = None, extra: str = "") -> None:
    verdict = (
        ""
        if target is None
        else f"  target <= {target:.0f} s: " + ("met" if seconds <= target else "MISSED")
    )
    print(f"{label:<58} {seconds:7.2f} s{verdict}{extra}")


def main() -> None:
    factorstack = str(BIN / "factorstack")
    work = Path(tempfile.mkdtemp(prefix="factorstack-bench-"))
    try:
        sample = write_generated_app(work / "sample", 3)
        build_s, build_mib = run([factorstack, "build"], sample)
        line("build + lint dev, staging, prod (cold, 24 templates)", build_s, TARGETS["build"])
        rebuild_s, rebuild_mib = run([factorstack, "build"], sample)
        line("rebuild with nothing changed", rebuild_s, TARGETS["rebuild"])

        dev_templates = sorted(
            p for p in (sample / "build/dev").glob("*.json") if p.name != "manifest.json"
        )
        baseline = 0.0
        for template in dev_templates:
            seconds, _ = run(
                [
                    str(BIN / "cfn-lint"),
                    "--include-checks",
                    "I",
                    "--ignore-checks",
                    "W3002",
                    "--",
                    str(template),
                ],
                sample,
            )
            baseline += seconds
        per_env_ours = build_s / 3
        line(
            f"baseline: cfn-lint CLI once per template, dev only ({len(dev_templates)})",
            baseline,
            extra=f"  ours per environment: {per_env_ours:.2f} s "
            f"({baseline / per_env_ours:.1f}x faster)",
        )

        big = write_generated_app(work / "big", 100)
        big_s, big_mib = run([factorstack, "build"], big)
        templates = len(list((big / "build").glob("*/*.json"))) - 3
        line(
            f"generated app, 100 processes x 3 environments ({templates} templates)",
            big_s,
            TARGETS["generated"],
        )
        peak = max(build_mib, rebuild_mib, big_mib)
        verdict = "met" if peak <= TARGETS["memory_mib"] else "MISSED"
        print(
            f"{'peak resident memory (largest run)':<58} {peak:7.1f} MiB  "
            f"target <= 250 MiB: {verdict}"
        )

        # The same builds with cfn-lint in two forked processes (`--lint-jobs 2`), which
        # gives up the single call: each process peaks at about the memory above.
        print("with --lint-jobs 2 (one cfn-lint call per core):")
        shutil.rmtree(sample / "build")
        two_s, _ = run([factorstack, "build", "--lint-jobs", "2"], sample)
        line(
            "  build + lint dev, staging, prod (cold)",
            two_s,
            TARGETS["build"],
            extra=f"  {build_s / two_s:.2f}x the single call",
        )
        shutil.rmtree(big / "build")
        big_two_s, _ = run([factorstack, "build", "--lint-jobs", "2"], big)
        line(
            "  generated app, 100 processes x 3 environments",
            big_two_s,
            TARGETS["generated"],
            extra=f"  {big_s / big_two_s:.2f}x the single call",
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
