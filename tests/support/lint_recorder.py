"""A stand-in for cfn-lint that counts calls, and a lint cache of the test's own.

The suite runs with FACTORSTACK_LINT_CACHE=off (tests/conftest.py), so no test reads or fills
the user's cache; a test about the cache points it at a temporary folder with `own_lint_cache`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from factorstack.build.lint_cache import CACHE_ENV
from factorstack.lint import LintFinding


class LintRecorder:
    """Records what it was asked to lint; reports `findings`, plus one finding for each file
    `flag` picks (a template cfn-lint would reject)."""

    def __init__(self, findings: list[LintFinding] | None = None) -> None:
        self.calls: list[list[Path]] = []
        self.jobs: list[int] = []
        self.regions: list[list[str]] = []
        self.findings = findings or []
        self.flag: Callable[[Path], bool] = lambda path: False

    def __call__(self, paths: list[Path], regions: list[str], jobs: int = 1) -> list[LintFinding]:
        self.calls.append(list(paths))
        self.jobs.append(jobs)
        self.regions.append(list(regions))
        flagged = [LintFinding(str(p), 1, "E9999", "flagged") for p in paths if self.flag(p)]
        return self.findings + flagged

    @property
    def linted(self) -> int:
        """Files cfn-lint was asked about, over every call."""
        return sum(len(call) for call in self.calls)


def own_lint_cache(monkeypatch: pytest.MonkeyPatch, folder: Path) -> Path:
    """Point the build's lint cache at `folder` for this test."""
    monkeypatch.setenv(CACHE_ENV, str(folder))
    return folder
