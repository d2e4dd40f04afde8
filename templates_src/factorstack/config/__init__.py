"""Reading and validating app.yaml and environments/ENV.yaml into AppModels."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from factorstack.config.checks import check_app, check_environment
from factorstack.config.loading import APP_FILE, ENV_DIR, environment_names, parse, read_yaml
from factorstack.config.models import ENV_NAME_PATTERN, AppSpec, EnvironmentSpec
from factorstack.config.resolve import resolve
from factorstack.errors import ConfigError
from factorstack.model import AppModel
from factorstack.release_record import RELEASE_FILE

__all__ = ["LoadedEnvironment", "config_sha256", "load_environments", "load_model"]


@dataclass(frozen=True)
class LoadedEnvironment:
    """One environment's model plus the deploy settings that never reach a template."""

    model: AppModel
    profile: str | None
    role_arn: str | None
    config_sha256: str


def _env_file(env: str) -> str:
    return f"{ENV_DIR}/{env}.yaml"


def config_sha256(root: Path, env: str) -> str:
    """Hash of the inputs of one environment's build (app.yaml, the environment file and the
    recorded release), to tell whether build/ENV is current."""
    digest = hashlib.sha256()
    for relative in (APP_FILE, _env_file(env), f"build/{env}/{RELEASE_FILE}"):
        digest.update(relative.encode() + b"\0")
        path = root / relative
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()


def _load_app(root: Path) -> AppSpec:
    app = parse(AppSpec, read_yaml(root / APP_FILE, APP_FILE), APP_FILE)
    problems = list(check_app(app, APP_FILE))
    if problems:
        raise ConfigError(*(f"{file}: {field}: {message}" for file, field, message in problems))
    return app


def _load_env(root: Path, app: AppSpec, env: str) -> LoadedEnvironment:
    shown = _env_file(env)
    if not re.fullmatch(ENV_NAME_PATTERN, env):
        raise ConfigError(
            f"{shown}: {env!r} is not a valid environment name (use lower-case letters, digits "
            "and '-', at most 20, starting with a letter; rename the file)"
        )
    spec = parse(EnvironmentSpec, read_yaml(root / shown, shown), shown)
    problems = list(check_environment(app, spec, shown))
    if problems:
        raise ConfigError(*(f"{file}: {field}: {message}" for file, field, message in problems))
    return LoadedEnvironment(
        model=resolve(app, spec, env),
        profile=spec.profile,
        role_arn=spec.role_arn,
        config_sha256=config_sha256(root, env),
    )


def load_model(root: Path, env: str) -> LoadedEnvironment:
    """One environment, or a ConfigError listing every problem found."""
    if env not in environment_names(root):
        known = ", ".join(environment_names(root)) or "none"
        raise ConfigError(
            f"{_env_file(env)}: no such environment (defined: {known}; create the file to add one)"
        )
    return _load_env(root, _load_app(root), env)


def load_environments(root: Path, only: list[str] | None = None) -> list[LoadedEnvironment]:
    """Every environment (or the named ones); all problems of all files are reported together."""
    app = _load_app(root)
    names = only or environment_names(root)
    if not names:
        raise ConfigError(f"{ENV_DIR}/: no environment files (add {ENV_DIR}/dev.yaml)")
    loaded: list[LoadedEnvironment] = []
    lines: list[str] = []
    for name in names:
        try:
            if name not in environment_names(root):
                raise ConfigError(f"{_env_file(name)}: no such environment (create the file)")
            loaded.append(_load_env(root, app, name))
        except ConfigError as error:
            lines.extend(error.lines)
    if lines:
        raise ConfigError(*lines)
    return loaded
