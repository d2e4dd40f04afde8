"""`make bench`: how long `factorstack build` takes and how much memory it needs, on this machine.

Reported figures only: nothing here fails a build. Run it with the machine otherwise idle.

Every figure runs the real command in a fresh process (interpreter start and imports included),
a few times, and reports the median wall time (what the targets are about) and the median CPU
time the process used (user + system, which other load on the machine disturbs less); peak
memory is the largest resident set the kernel reports for those processes. The baseline beside
each figure is measured in the same run: the same cold build with the lint cache off
(FACTORSTACK_LINT_CACHE=off), what a build costs on a machine that never linted these templates.
Each run gets its own, first empty, lint cache folder: the user's is neither read nor filled.

    python bench/bench_build.py [--repeat 3] [--processes 100] [--source CHECKOUT]

`--source` benches another checkout (e.g. `git archive HEAD` unpacked in /tmp) against its own
sample app, with this virtual environment: before/after tables from one machine and one run.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.app_generator import REPO, write_generated_app  # noqa: E402

# Issue 11's targets, on a 2-core machine with one lint process.
TARGETS = {"cold": 2.5, "warm": 1.0, "rebuild": 0.5, "generated": 20.0, "memory_mib": 250.0}
CACHE_ENV = "FACTORSTACK_LINT_CACHE"
Measured = tuple[float, float, float]  # wall seconds, CPU seconds, peak MiB
BUILD = "import sys; from factorstack.cli import main; sys.exit(main(sys.argv[1:]))"
# The same build with the lint at CPython's own cycle-collector threshold (the baseline of
# factorstack.lint.LINT_GC_THRESHOLD).
BUILD_DEFAULT_GC = (
    "import gc, sys; import factorstack.lint as lint; "
    "lint.LINT_GC_THRESHOLD = gc.get_threshold()[0]; " + BUILD.removeprefix("import sys; ")
)


class BenchFailure(Exception):
    """A build the bench ran did not succeed; the row shows why instead of a figure."""


@dataclass
class Runs:
    """Wall seconds, CPU seconds and peak MiB of each run of one figure."""

    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    mib: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


class Builder:
    """Runs `factorstack build` in a fresh interpreter for one app, with a chosen lint cache."""

    def __init__(self, app: Path, source: Path | None, cache: Path) -> None:
        self.app = app
        self.cache = cache
        self.env = dict(os.environ)
        # Bytecode is written once (a warm-up run) as on any developer's machine.
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)
        if source is not None:
            self.env["PYTHONPATH"] = str(source / "templates_src")

    def run(self, cache: str, *extra: str, program: str = BUILD) -> Measured:
        """Wall seconds, CPU seconds and peak RSS (MiB) of one build with
        FACTORSTACK_LINT_CACHE=cache."""
        env = {**self.env, CACHE_ENV: cache}
        args = [sys.executable, "-c", program, "build", *extra]
        started = time.perf_counter()
        child = subprocess.Popen(
            args, cwd=self.app, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        assert child.stderr is not None
        errors = child.stderr.read().decode()
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            raise BenchFailure((errors.strip().splitlines() or ["no output"])[-1])
        return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024

    def clean(self) -> None:
        """`make clean`: build/ goes, the lint cache stays."""
        shutil.rmtree(self.app / "build", ignore_errors=True)

    def empty_cache(self) -> str:
        shutil.rmtree(self.cache, ignore_errors=True)
        return str(self.cache)

    def cold(self, extra: tuple[str, ...] = (), program: str = BUILD) -> Measured:
        self.clean()
        return self.run(self.empty_cache(), *extra, program=program)

    def cold_uncached(self, extra: tuple[str, ...] = ()) -> Measured:
        self.clean()
        return self.run("off", *extra)

    def warm(self) -> Measured:
        self.clean()
        return self.run(str(self.cache))

    def rebuild(self) -> Measured:
        return self.run(str(self.cache))


def measure(times: int, one: Callable[[], Measured]) -> Runs:
    runs = Runs()
    for _ in range(times):
        seconds, cpu, mib = one()
        runs.seconds.append(seconds)
        runs.cpu.append(cpu)
        runs.mib.append(mib)
    return runs


def distinct_templates(build: Path) -> tuple[int, int]:
    """Template files in build/ENV/ (not the shared store they link to) and how many distinct
    texts among them."""
    texts = [
        p.read_bytes()
        for p in build.glob("*/*.json")
        if p.name != "manifest.json" and not p.parent.name.startswith(".")
    ]
    return len(texts), len({hashlib.sha256(text).hexdigest() for text in texts})


def row(label: str, runs: Runs | str, target: float, baseline: Runs | None) -> None:
    """One table line: median, target, the baseline and how many times faster than it."""
    if isinstance(runs, str):
        print(f"{label:<52} failed: {runs}")
        return
    verdict = "met" if runs.median <= target else "MISSED"
    compared = ""
    if baseline is not None:
        compared = f"{baseline.median:8.2f} s {baseline.median / runs.median:6.1f}x"
    print(
        f"{label:<52} {runs.median:7.2f} s  <= {target:4.1f} s {verdict:<6} {compared}"
        f"   cpu {statistics.median(runs.cpu):6.2f} s"
        f"   (runs: {', '.join(f'{s:.2f}' for s in runs.seconds)})"
    )


def header() -> None:
    print(f"{'figure (median)':<52} {'ours':>9}  {'target':<13} {'cache off':>10} {'speed-up':>7}")


def bench_sample(builder: Builder, times: int) -> list[Runs]:
    """The sample app, dev+staging+prod: cold, warm, unchanged, --lint-jobs 2; every Runs."""
    builder.cold()  # warm-up: writes bytecode, fills the page cache; not reported
    baseline = measure(times, builder.cold_uncached)
    cold = measure(times, builder.cold)
    warm = measure(times, builder.warm)
    rebuild = measure(times, builder.rebuild)
    files, distinct = distinct_templates(builder.app / "build")
    print(f"sample app: {files} templates per build, {distinct} distinct")
    header()
    row("cold build dev+staging+prod, empty lint cache", cold, TARGETS["cold"], baseline)
    row("same after `make clean`, warm lint cache", warm, TARGETS["warm"], baseline)
    row("unchanged rebuild", rebuild, TARGETS["rebuild"], baseline)
    jobs = measure(times, lambda: builder.cold(("--lint-jobs", "2")))
    row("  cold, empty cache, --lint-jobs 2", jobs, TARGETS["cold"], baseline)
    print(f"{'':<52} --lint-jobs 2 vs 1: {cold.median / jobs.median:.2f}x")
    default_gc = measure(times, lambda: builder.cold(program=BUILD_DEFAULT_GC))
    row("  cold, empty cache, CPython's GC threshold", default_gc, TARGETS["cold"], baseline)
    print(f"{'':<52} ours vs CPython's threshold: {default_gc.median / cold.median:.2f}x")
    return [baseline, cold, warm, rebuild, jobs]


def bench_generated(builder: Builder, processes: int, times: int) -> list[Runs]:
    """The generated app, cold with and without the cache, and with --lint-jobs 2."""
    label = f"generated app, {processes} processes x 3 envs, cold"
    try:
        baseline = measure(times, builder.cold_uncached)
    except BenchFailure as failure:
        row(label, str(failure), TARGETS["generated"], None)
        return []
    cold = measure(times, builder.cold)
    files, distinct = distinct_templates(builder.app / "build")
    print(f"generated app: {files} templates per build, {distinct} distinct")
    row(label, cold, TARGETS["generated"], baseline)
    jobs = measure(times, lambda: builder.cold(("--lint-jobs", "2")))
    row("  the same, --lint-jobs 2", jobs, TARGETS["generated"], baseline)
    print(f"{'':<52} --lint-jobs 2 vs 1: {cold.median / jobs.median:.2f}x")
    return [baseline, cold, jobs]


def memory(cached: list[Runs], uncached: list[Runs]) -> None:
    """Peak resident memory over every run, the cache-off runs as the baseline."""
    peak = max((mib for runs in cached for mib in runs.mib), default=0.0)
    base = max((mib for runs in uncached for mib in runs.mib), default=0.0)
    verdict = "met" if peak <= TARGETS["memory_mib"] else "MISSED"
    print(
        f"{'peak resident memory, largest run':<52} {peak:7.1f} MiB <= 250 MiB {verdict:<6}"
        f" cache off: {base:.1f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--big-repeat", type=int, help="runs per big-app figure (--repeat)")
    parser.add_argument("--processes", type=int, default=100, help="process types, big app")
    parser.add_argument("--source", type=Path, help="another checkout to bench")
    args = parser.parse_args()
    repo = args.source.resolve() if args.source else REPO
    work = Path(tempfile.mkdtemp(prefix="factorstack-bench-"))
    try:
        print(f"bench of {repo} on {os.cpu_count()} cores, median of {args.repeat} runs")
        sample = Builder(write_generated_app(work / "sample", 3, repo), args.source, work / "c1")
        small = bench_sample(sample, args.repeat)
        big_app = write_generated_app(work / "big", args.processes, repo)
        big_times = args.big_repeat or args.repeat
        big = bench_generated(Builder(big_app, args.source, work / "c2"), args.processes, big_times)
        cached = small[1:4] + big[1:2]
        memory(cached, small[:1] + big[:1])
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
