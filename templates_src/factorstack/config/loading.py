"""Reading the YAML files: the only place that touches app.yaml and environments/*.yaml.

A mistake becomes a ConfigError whose lines each read `FILE: FIELD: what is wrong (fix)`.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Hashable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from factorstack.config.files import ENV_DIR, environment_names
from factorstack.config.messages import describe_validation_errors
from factorstack.errors import ConfigError

Spec = TypeVar("Spec", bound=BaseModel)


class _UniqueKeyLoader(yaml.SafeLoader):
    """A SafeLoader that refuses a key written twice instead of silently keeping the last, and
    reads plain words as YAML 1.2 does: PyYAML's YAML 1.1 turns `NO`, `off` and `yes` into
    booleans, `0755` into 493, `12:30` into 750 and `2026-11-27` into a date, so a variable's
    value would reach the container changed. Here only true/false are booleans, only decimal
    digits without a leading zero are whole numbers, and everything else stays text."""


_YAML_1_1_ONLY = {"bool", "int", "float", "timestamp"}
_UniqueKeyLoader.yaml_implicit_resolvers = {
    first: [(tag, rule) for tag, rule in rules if tag.rsplit(":", 1)[-1] not in _YAML_1_1_ONLY]
    for first, rules in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_UniqueKeyLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_UniqueKeyLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789")
)
_UniqueKeyLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^[-+]?(?:(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[0-9]+[eE][-+]?[0-9]+)$"
        r"|^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$"
    ),
    list("-+0123456789."),
)
MERGE_TAG = "tag:yaml.org,2002:merge"


def _construct_unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    """Keys written in this mapping must differ; keys a merge (`<<: *anchor`) brings in may be
    overridden by one written here, as YAML's merge means."""
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == MERGE_TAG:
            continue
        key = loader.construct_object(key_node)
        if not isinstance(key, Hashable):
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a plain word, not a list or mapping", key_node.start_mark
            )
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
    data = _parse(_read_text(path, shown_as), shown_as)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{shown_as}: top level must be a mapping of keys to values")
    return data


def _read_text(path: Path, shown_as: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{shown_as}: file not found (create it; see README)") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{shown_as}: not UTF-8 text (save it as UTF-8)") from None
    except IsADirectoryError:
        raise ConfigError(
            f"{shown_as}: is a folder where a file belongs (remove or rename it)"
        ) from None
    except OSError as error:
        raise ConfigError(f"{shown_as}: cannot read: {error.strerror}") from None


def _parse(text: str, shown_as: str) -> Any:
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f":{mark.line + 1}" if mark else ""
        problem = error.problem or error.context or "malformed"
        raise ConfigError(
            f"{shown_as}{where}: malformed YAML: {problem} (fix the syntax)"
        ) from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{shown_as}: malformed YAML: {error} (fix the syntax)") from None
    except RecursionError:
        raise ConfigError(
            f"{shown_as}: malformed YAML: nested too deeply (fix the syntax)"
        ) from None


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
