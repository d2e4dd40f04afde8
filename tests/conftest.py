"""Fixtures shared by every test folder: a copy of the sample app to change freely."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/golden/ENV/*.json from the sample app instead of comparing with them",
    )


def copy_sample(target: Path) -> Path:
    """app.yaml and environments/ of the repo, copied so a test can edit them."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "app.yaml", target / "app.yaml")
    shutil.copytree(REPO / "environments", target / "environments")
    return target


@pytest.fixture
def sample_root(tmp_path: Path) -> Path:
    return copy_sample(tmp_path / "repo")
