"""Reading the YAML files: the only place that touches app.yaml and environments/*.yaml.

A mistake becomes a ConfigError whose lines each read `FILE: FIELD: what is wrong (fix)`.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from factorstack.config.files import ENV_DIR, environment_names
from factorstack.config.messages import describe_validation_errors
from factorstack.errors import ConfigError

Spec = TypeVar("Spec", bound=BaseModel)


class _UniqueKeyLoader(yaml.SafeLoader):
    """A SafeLoader that refuses a key written twice instead of silently keeping the last."""


def _construct_unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} appears twice (keep one)", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping
)


def read_yaml(path: Path, shown_as: str) -> dict[str, Any]:
    """Parse one YAML file into a mapping, or raise a one-line ConfigError."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{shown_as}: file not found (create it; see README)") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{shown_as}: not UTF-8 text (save it as UTF-8)") from None
    except OSError as error:
        raise ConfigError(f"{shown_as}: cannot read: {error.strerror}") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f":{mark.line + 1}" if mark else ""
        problem = error.problem or error.context or "malformed"
        raise ConfigError(
            f"{shown_as}{where}: malformed YAML: {problem} (fix the syntax)"
        ) from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{shown_as}: malformed YAML: {error} (fix the syntax)") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{shown_as}: top level must be a mapping of keys to values")
    return data


def validate(
    spec_type: type[Spec], data: dict[str, Any], shown_as: str
) -> tuple[Spec | None, list[str]]:
    """Validate a mapping against a spec model: the spec (None when it is invalid) and one line
    per problem.

    Unknown keys alone do not hide the rest: the mapping is validated again without them, and
    when that passes the spec comes back beside their lines, so the checks across fields and
    files still run and report their problems in the same run.
    """
    try:
        return spec_type.model_validate(data), []
    except ValidationError as error:
        lines = describe_validation_errors(error, shown_as)
        pruned = _without_unknown_keys(data, error)
    if pruned is None:
        return None, lines
    try:
        return spec_type.model_validate(pruned), lines
    except ValidationError:
        return None, lines


def _without_unknown_keys(data: dict[str, Any], error: ValidationError) -> dict[str, Any] | None:
    """A copy of `data` without the keys the error calls unknown; None when it finds more."""
    problems = error.errors()
    if any(problem["type"] != "extra_forbidden" for problem in problems):
        return None
    pruned = copy.deepcopy(data)
    for problem in problems:
        *parents, key = problem["loc"]
        node: Any = pruned
        try:
            for part in parents:
                node = node[part]
            del node[key]
        except (KeyError, IndexError, TypeError):
            return None
    return pruned


def unknown_environment(root: Path, env: str) -> str:
    """The line for an environment without a file: the ones defined, and how to add it."""
    known = environment_names(root)
    defined = f"defined: {', '.join(known)}" if known else f"no {ENV_DIR}/*.yaml yet"
    return (
        f"{ENV_DIR}/{env}.yaml: no such environment "
        f"({defined}; create {ENV_DIR}/{env}.yaml to add one)"
    )
