"""Fixtures shared by every test folder: a copy of the sample app to change freely; the e2e mark."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.sample import copy_sample

E2E = Path(__file__).resolve().parent / "e2e"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/golden/ENV/*.json from the sample app instead of comparing with them",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/e2e/ talks to the local AWS endpoint: mark it `e2e` by folder,
    so `make test-fast` (-m "not e2e") leaves it out without each file having to say so."""
    for item in items:
        if item.path.is_relative_to(E2E):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(autouse=True, scope="session")
def _no_user_lint_cache() -> Iterator[None]:
    """No test reads or fills the user's lint cache (~/.cache/factorstack/lint): a stubbed
    cfn-lint's "clean" must never reach it. Tests of the cache give it a folder of their own."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FACTORSTACK_LINT_CACHE", "off")
        yield


@pytest.fixture(autouse=True, scope="session")
def _no_job_summary() -> Iterator[None]:
    """No test writes to the job summary of the CI run that runs the tests (GitHub sets
    GITHUB_STEP_SUMMARY for every step); tests of the summary give it a file of their own."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("GITHUB_STEP_SUMMARY", raising=False)
        yield


@pytest.fixture
def sample_root(tmp_path: Path) -> Path:
    return copy_sample(tmp_path / "repo")
