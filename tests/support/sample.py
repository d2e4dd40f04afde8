"""The repo's sample app (app.yaml, environments/), copied so a test can edit it freely."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]


def copy_sample(target: Path) -> Path:
    """app.yaml, environments/ and docker/ (what `release` builds) of the repo, copied so a test
    can edit them."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "app.yaml", target / "app.yaml")
    shutil.copytree(REPO / "environments", target / "environments")
    shutil.copytree(REPO / "docker", target / "docker")
    return target


def edit_yaml(path: Path, change: Callable[[Any], object]) -> None:
    """Load a YAML file, let `change` mutate the data, write it back."""
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
