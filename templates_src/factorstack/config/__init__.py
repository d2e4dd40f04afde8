"""Reading and validating app.yaml and environments/ENV.yaml into AppModels.

The loaders import the pydantic models when first called, not here: `config_sha256` is what an
unchanged `factorstack build` needs, and it should not pay ~0.4 s for models it never uses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from factorstack.config.files import (
    APP_FILE,
    ENV_DIR,
    config_sha256,
    env_file,
    environment_names,
)
from factorstack.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from factorstack.config.checks import Problem
    from factorstack.config.models import AppSpec
    from factorstack.model import AppModel

__all__ = [
    "LoadedEnvironment",
    "config_sha256",
    "load_environments",
    "load_model",
    "require_environment",
]


@dataclass(frozen=True)
class LoadedEnvironment:
    """One environment's model plus the deploy settings that never reach a template."""

    model: AppModel
    profile: str | None
    role_arn: str | None
    config_sha256: str
    promotes_from: str | None = None  # the environment a plan compares with (parity)


def _lines(problems: Iterable[Problem]) -> list[str]:
    return [f"{file}: {field}: {message}" for file, field, message in problems]


def _load_app(root: Path) -> tuple[AppSpec | None, list[str]]:
    """app.yaml's spec (None when it cannot be read or validated) and its problems."""
    from factorstack.config.checks import check_app
    from factorstack.config.loading import read_yaml, validate
    from factorstack.config.models import AppSpec

    try:
        data = read_yaml(root / APP_FILE, APP_FILE)
    except ConfigError as error:
        return None, error.lines
    app, lines = validate(AppSpec, data, APP_FILE)
    if app is not None:
        lines += _lines(check_app(app, APP_FILE))
    return app, lines


def _load_env(
    root: Path, app: AppSpec | None, env: str
) -> tuple[LoadedEnvironment | None, list[str]]:
    """One environment (None on any problem, here or in app.yaml) and its file's problems.

    Without a valid app.yaml the file is still checked on its own, so one run reports both.
    """
    from factorstack.config.checks import check_environment, promotion_problems
    from factorstack.config.loading import read_yaml, validate
    from factorstack.config.models import ENV_NAME_PATTERN, EnvironmentSpec
    from factorstack.config.resolve import resolve

    shown = env_file(env)
    if not re.fullmatch(ENV_NAME_PATTERN, env):
        return None, [
            f"{shown}: {env!r} is not a valid environment name (use lower-case letters, digits "
            "and '-', at most 20, starting with a letter; rename the file)"
        ]
    try:
        data = read_yaml(root / shown, shown)
    except ConfigError as error:
        return None, error.lines
    spec, lines = validate(EnvironmentSpec, data, shown)
    if spec is None or app is None:
        return None, lines
    lines += _lines(check_environment(app, spec, shown))
    lines += _lines(promotion_problems(spec, env, environment_names(root), shown))
    if lines:
        return None, lines
    loaded = LoadedEnvironment(
        model=resolve(app, spec, env),
        profile=spec.profile,
        role_arn=spec.role_arn,
        config_sha256=config_sha256(root, env),
        promotes_from=spec.promotes_from,
    )
    return loaded, []


def require_environment(root: Path, env: str) -> None:
    """Refuse an environment without a file, naming the ones there are (a usage mistake)."""
    from factorstack.config.loading import unknown_environment

    if env not in environment_names(root):
        raise UsageError(unknown_environment(root, env))


def load_model(root: Path, env: str) -> LoadedEnvironment:
    """One environment, or a ConfigError listing every problem of app.yaml and its file."""
    require_environment(root, env)
    app, lines = _load_app(root)
    loaded, env_lines = _load_env(root, app, env)
    lines += env_lines
    if lines or loaded is None:
        raise ConfigError(*lines)
    return loaded


def load_environments(root: Path, only: list[str] | None = None) -> list[LoadedEnvironment]:
    """Every environment (or the named ones); all problems of all files are reported together."""
    from factorstack.config.loading import unknown_environment

    names = only or environment_names(root)
    unknown = [name for name in names if name not in environment_names(root)]
    if unknown:
        raise UsageError(*(unknown_environment(root, name) for name in unknown))
    app, lines = _load_app(root)
    if not names:
        lines.append(f"{ENV_DIR}/: no environment files (add {ENV_DIR}/dev.yaml)")
    loaded: list[LoadedEnvironment] = []
    for name in names:
        environment, env_lines = _load_env(root, app, name)
        lines += env_lines
        if environment is not None:
            loaded.append(environment)
    if lines or app is None:
        raise ConfigError(*lines)
    return loaded
