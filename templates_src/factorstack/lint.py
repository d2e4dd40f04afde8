"""cfn-lint, in-process, in one call for every template given (start-up is the expensive part)."""

from __future__ import annotations

import gc
import hashlib
import multiprocessing
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# W3002 says a template uses local TemplateURLs that only `package` understands. That is the
# contract of build/: deploy packages the children before any change set is made.
IGNORED_RULES = ("W3002",)
INCLUDED_RULES = ("I",)  # informational rules too, e.g. I3011 (stateful resource policies)
# Our own rules (E9xxx, factorstack/lint_rules): AWS constraints cfn-lint's schemas miss. Given
# as an import path, not a folder: cfn-lint imports a folder's files as loose top-level modules,
# a package keeps its imports and is found wherever factorstack is installed.
RULES_PACKAGE = "factorstack.lint_rules"
RULES_FOLDER = Path(__file__).parent / "lint_rules"
# CPython's cycle collector scans its youngest generation every 700 new container objects by
# default. cfn-lint makes millions of short-lived ones (a validator class and contexts per
# property), so at that rate collection took about a sixth of a cold lint; `make bench` prints
# the cold build at the default threshold beside ours. Scanning every 50,000 collects the same
# cycles, later, for a few MiB more.
LINT_GC_THRESHOLD = 50_000


def own_rules_id() -> str:
    """Our rules' version, from their source: a build that records which linter passed its
    templates must record this too, or a new rule never sees unchanged templates. Reads the
    files without importing them (importing pulls in cfn-lint, ~1 s)."""
    digest = hashlib.sha256()
    for source in sorted(RULES_FOLDER.glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return f"factorstack-rules {digest.hexdigest()[:12]}"


@dataclass(frozen=True)
class LintFinding:
    file: str
    line: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line} {self.rule} {self.message}"


def _lint_in_one_call(
    paths: list[Path], regions: list[str], own_rules: bool = True
) -> list[LintFinding]:
    from cfnlint.api import ManualArgs, lint_by_config

    args = ManualArgs(
        templates=[str(p) for p in paths],
        regions=sorted(set(regions)),
        include_checks=list(INCLUDED_RULES),
        ignore_checks=list(IGNORED_RULES),
    )
    if own_rules:
        # ConfigMixIn reads append_rules from these arguments like the CLI's --append-rules
        # (cfn-lint 1.58's ManualArgs type does not declare the key).
        args["append_rules"] = [RULES_PACKAGE]
    matches = lint_by_config(args)
    return [
        LintFinding(str(m.filename), m.linenumber, m.rule.id, m.message.replace("\n", " "))
        for m in matches
    ]


def _shares(paths: list[Path], jobs: int) -> list[list[Path]]:
    """Split the templates into `jobs` shares of about equal size (cost follows size)."""
    shares: list[list[Path]] = [[] for _ in range(jobs)]
    loads = [0] * jobs
    for path in sorted(paths, key=lambda p: p.stat().st_size, reverse=True):
        lightest = loads.index(min(loads))
        shares[lightest].append(path)
        loads[lightest] += path.stat().st_size
    return [share for share in shares if share]


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """The youngest generation collected every LINT_GC_THRESHOLD objects while cfn-lint runs
    (and in the workers it forks); the interpreter's own thresholds afterwards."""
    previous = gc.get_threshold()
    gc.set_threshold(LINT_GC_THRESHOLD, *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def lint_templates(
    paths: list[Path], regions: list[str], jobs: int = 1, own_rules: bool = True
) -> list[LintFinding]:
    """Every finding for the given files; an empty list means clean.

    One cfn-lint call by default, with cfn-lint's rules and ours (`own_rules=False` leaves ours
    out, to measure them). `jobs` > 1 forks that many workers after cfn-lint is imported, one
    call each: cfn-lint validates one template at a time on one core.
    """
    if not paths:
        return []
    import cfnlint.api  # noqa: F401 - ~0.5 s: only when needed, and once before any fork

    shares = _shares(paths, max(1, jobs))
    with _fewer_collections():
        if len(shares) == 1:
            findings = _lint_in_one_call(paths, regions, own_rules)
        else:
            with multiprocessing.get_context("fork").Pool(len(shares)) as pool:
                results = pool.starmap(
                    _lint_in_one_call, [(share, regions, own_rules) for share in shares]
                )
            findings = [finding for result in results for finding in result]
    return sorted(set(findings), key=lambda f: (f.file, f.line, f.rule, f.message))
