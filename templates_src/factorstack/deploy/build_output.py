"""Reading `build/ENV/`: the manifest and the templates `make templates` wrote.

Deploy only reads the build; when it is missing, altered or older than the config, the user is
told to run `make templates` instead of deploying something nobody reviewed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from factorstack.build import MANIFEST_FILE, sha256
from factorstack.deploy.session import AwsTarget
from factorstack.errors import ConfigError
from factorstack.stacks.root import ROOT_FILE

REBUILD = "run `make templates`"


@dataclass(frozen=True)
class Build:
    """One environment's build: where it is and what its manifest says."""

    folder: Path
    app: str
    environment: str
    stack_name: str
    target: AwsTarget
    config_sha256: str
    processes: tuple[str, ...]
    templates: dict[str, str]
    linted_by: str | None = None

    @property
    def root_template(self) -> Path:
        return self.folder / ROOT_FILE


def build_folder(root: Path, environment: str) -> Path:
    """`build/ENV` under the repo root."""
    return root / "build" / environment


def _field(manifest: dict[str, Any], name: str, shown_as: str) -> Any:
    if name not in manifest:
        raise ConfigError(f"{shown_as}: no `{name}` ({REBUILD})")
    return manifest[name]


def parse_manifest(data: dict[str, Any], folder: Path) -> Build:
    """A Build from manifest.json's content; a missing field means the build is not ours."""
    shown_as = str(folder / MANIFEST_FILE)
    templates = _field(data, "templates", shown_as)
    if not isinstance(templates, dict) or ROOT_FILE not in templates:
        raise ConfigError(f"{shown_as}: `templates` does not list {ROOT_FILE} ({REBUILD})")
    return Build(
        folder=folder,
        app=str(_field(data, "app", shown_as)),
        environment=str(_field(data, "environment", shown_as)),
        stack_name=str(_field(data, "stack_name", shown_as)),
        target=AwsTarget(
            account=str(_field(data, "account", shown_as)),
            region=str(_field(data, "region", shown_as)),
            profile=data.get("profile") or None,
            role_arn=data.get("role_arn") or None,
        ),
        config_sha256=str(data.get("config_sha256", "")),
        processes=tuple(str(p) for p in data.get("processes", [])),
        templates={str(k): str(v) for k, v in templates.items()},
        linted_by=data.get("linted_by") or None,
    )


def load_build(root: Path, environment: str) -> Build:
    """The manifest of `build/ENV`, or a one-line error telling the user to build first."""
    folder = build_folder(root, environment)
    path = folder / MANIFEST_FILE
    if not path.is_file():
        raise ConfigError(f"{path}: build for `{environment}` is missing ({REBUILD})")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ConfigError(f"{path}: unreadable manifest: {error} ({REBUILD})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: manifest is not a JSON object ({REBUILD})")
    return parse_manifest(data, folder)


def verify_templates(build: Build) -> None:
    """Refuse when a template is missing or differs from what the build recorded."""
    for name, expected in sorted(build.templates.items()):
        path = build.folder / name
        if not path.is_file():
            raise ConfigError(f"{path}: listed in the manifest but missing ({REBUILD})")
        if sha256(path.read_bytes()) != expected:
            raise ConfigError(f"{path}: changed since it was built ({REBUILD})")


def check_fresh(build: Build, root: Path) -> None:
    """Refuse when app.yaml or the environment file changed after the build, or when the
    build skipped cfn-lint (`--no-lint`): only linted templates are deployed."""
    from factorstack import config

    if build.linted_by is None:
        raise ConfigError(f"{build.folder}: built without cfn-lint (--no-lint) ({REBUILD})")
    current = config.config_sha256(root, build.environment)
    if current != build.config_sha256:
        raise ConfigError(
            f"{build.folder}: build is older than app.yaml / "
            f"environments/{build.environment}.yaml ({REBUILD})"
        )
