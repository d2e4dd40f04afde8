"""Rendering the sample app's templates in memory, as plain dicts, for assertions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from factorstack.config import load_model
from factorstack.model import AppModel
from factorstack.stacks.root import build_stack_set


def model_of(root: Path, env: str) -> AppModel:
    return load_model(root, env).model


def templates_of(root: Path, env: str) -> dict[str, dict[str, Any]]:
    """Every template of one environment, keyed by file name, as CloudFormation would read it."""
    return {name: t.to_dict() for name, t in build_stack_set(model_of(root, env)).items()}


def resources_of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}
