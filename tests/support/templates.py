"""Rendering the sample app's templates in memory, as plain dicts, for assertions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from factorstack.build.resolve import resolve_set
from factorstack.config import load_model
from factorstack.model import AppModel
from factorstack.stacks.root import build_stack_set


def model_of(root: Path, env: str) -> AppModel:
    return load_model(root, env).model


def raw_templates_of(root: Path, env: str) -> dict[str, dict[str, Any]]:
    """Every template of one environment as written to build/: children shared by all
    environments, with the environment's values in root.json's nested-stack parameters."""
    return {name: t.to_dict() for name, t in build_stack_set(model_of(root, env)).items()}


def templates_of(root: Path, env: str) -> dict[str, dict[str, Any]]:
    """Every template of one environment as CloudFormation would read it for that
    environment: each child with the literal values its root passes filled in."""
    return resolve_set(raw_templates_of(root, env))


def resources_of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}
