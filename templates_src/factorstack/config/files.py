"""Where the config lives on disk and the hash of one environment's inputs.

Kept free of pydantic and YAML: an unchanged `factorstack build` compares these hashes with its
manifests before anything else is imported, and deploy checks them before it plans.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from factorstack.release_record import release_file

APP_FILE = "app.yaml"
ENV_DIR = "environments"


def env_file(env: str) -> str:
    """An environment's file, relative to the repo root (and as messages show it)."""
    return f"{ENV_DIR}/{env}.yaml"


def environment_names(root: Path) -> list[str]:
    """The environments the repo defines, one per `environments/NAME.yaml`, sorted."""
    folder = root / ENV_DIR
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.yaml"))


def config_sha256(root: Path, env: str) -> str:
    """Hash of the inputs of one environment's build (app.yaml, the environment file and the
    recorded release), to tell whether build/ENV is current."""
    digest = hashlib.sha256()
    for relative in (APP_FILE, env_file(env), release_file(env)):
        digest.update(relative.encode() + b"\0")
        path = root / relative
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()
