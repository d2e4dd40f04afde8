"""Reading `build/ENV/`: the manifest and the templates `factorstack build` wrote.

The build owns the format of its folder, so `factorstack lint` and deploy both read it here.
Deploy only reads the build; when it is missing, altered or older than the config, the user is
told to run `make templates` instead of deploying something nobody reviewed.

The names deploy looks for inside the built templates (the root file, the create-first
metadata key, the bootstrap bucket output) are re-exported from the stacks that write them, so
deploy reads build/ without importing the code that renders it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Re-exported (`as`): what build/ is made of is build/layout.py's to say; readers import it here.
from factorstack.build.layout import BOOTSTRAP_BUCKET_FILE as BOOTSTRAP_BUCKET_FILE
from factorstack.build.layout import BOOTSTRAP_FILE as BOOTSTRAP_FILE
from factorstack.build.layout import BUILD_DIR as BUILD_DIR
from factorstack.build.layout import MANIFEST_FILE as MANIFEST_FILE
from factorstack.build.layout import sha256 as sha256
from factorstack.config.files import config_sha256
from factorstack.errors import NotReady

# Re-exported (`as`): deploy reads these names of the built templates from here.
from factorstack.stacks.bootstrap import BUCKET_OUTPUT as BUCKET_OUTPUT
from factorstack.stacks.common import CREATE_FIRST_WITH as CREATE_FIRST_WITH
from factorstack.stacks.common import FAILOVER_AFTER_REPLICAS as FAILOVER_AFTER_REPLICAS
from factorstack.stacks.nat_instance import PINNED_FROM_SSM as PINNED_FROM_SSM
from factorstack.stacks.root import ROOT_FILE as ROOT_FILE

REBUILD = "run `make templates`"


@dataclass(frozen=True)
class AwsTarget:
    """Where an environment deploys: from the build manifest."""

    account: str
    region: str
    profile: str | None = None
    role_arn: str | None = None


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
    promotes_from: str | None = None  # the environment a plan compares with (parity)

    @property
    def root_template(self) -> Path:
        return self.folder / ROOT_FILE

    def bootstrap_template(self) -> Path:
        """`bootstrap.json`, or refuse a build made before the build rendered it."""
        if BOOTSTRAP_FILE not in self.templates:
            shown_as = self.folder / MANIFEST_FILE
            raise NotReady(f"{shown_as}: `templates` does not list {BOOTSTRAP_FILE} ({REBUILD})")
        return self.folder / BOOTSTRAP_FILE

    def bootstrap_bucket_template(self) -> Path:
        """`bootstrap-bucket.json`, or refuse a build that did not render it."""
        if BOOTSTRAP_BUCKET_FILE not in self.templates:
            shown_as = self.folder / MANIFEST_FILE
            raise NotReady(
                f"{shown_as}: `templates` does not list {BOOTSTRAP_BUCKET_FILE}, which a first "
                f"bootstrap of a {BOOTSTRAP_FILE} this large needs ({REBUILD})"
            )
        return self.folder / BOOTSTRAP_BUCKET_FILE


def build_folder(root: Path, environment: str) -> Path:
    """`build/ENV` under the repo root."""
    return root / BUILD_DIR / environment


def built_environments(root: Path) -> list[str]:
    """The environments with a manifest under build/, sorted."""
    return sorted(path.parent.name for path in (root / BUILD_DIR).glob(f"*/{MANIFEST_FILE}"))


def _field(manifest: dict[str, Any], name: str, shown_as: str) -> Any:
    if name not in manifest:
        raise NotReady(f"{shown_as}: no `{name}` ({REBUILD})")
    return manifest[name]


def parse_manifest(data: dict[str, Any], folder: Path) -> Build:
    """A Build from manifest.json's content; a missing field means the build is not ours."""
    shown_as = str(folder / MANIFEST_FILE)
    templates = _field(data, "templates", shown_as)
    if not isinstance(templates, dict) or ROOT_FILE not in templates:
        raise NotReady(f"{shown_as}: `templates` does not list {ROOT_FILE} ({REBUILD})")
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
        promotes_from=data.get("promotes_from") or None,
    )


def load_build(root: Path, environment: str) -> Build:
    """The manifest of `build/ENV`, or a one-line error telling the user to build first."""
    folder = build_folder(root, environment)
    path = folder / MANIFEST_FILE
    if not path.is_file():
        raise NotReady(f"{path}: build for `{environment}` is missing ({REBUILD})")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise NotReady(f"{path}: unreadable manifest: {error} ({REBUILD})") from None
    if not isinstance(data, dict):
        raise NotReady(f"{path}: manifest is not a JSON object ({REBUILD})")
    return parse_manifest(data, folder)


def verify_templates(build: Build) -> None:
    """Refuse when a template is missing or differs from what the build recorded."""
    for name, expected in sorted(build.templates.items()):
        path = build.folder / name
        if not path.is_file():
            raise NotReady(f"{path}: listed in the manifest but missing ({REBUILD})")
        if sha256(path.read_bytes()) != expected:
            raise NotReady(f"{path}: changed since it was built ({REBUILD})")


def check_fresh(build: Build, root: Path) -> None:
    """Refuse when app.yaml, the environment file or the release record changed after the
    build, or when the build skipped cfn-lint (`--no-lint`): only linted templates are
    deployed."""
    if build.linted_by is None:
        raise NotReady(f"{build.folder}: built without cfn-lint (--no-lint) ({REBUILD})")
    check_current(build, root)


def check_current(build: Build, root: Path) -> None:
    """Refuse when app.yaml, the environment file or the release record changed after the
    build: what it holds is no longer what the config says."""
    if config_sha256(root, build.environment) != build.config_sha256:
        raise NotReady(
            f"{build.folder}: build is older than app.yaml, "
            f"environments/{build.environment}.yaml or releases/{build.environment}.json "
            f"({REBUILD})"
        )
