"""The names of build/'s files, the hash that addresses them, and reading a manifest as data.

Nothing here imports the code that renders or validates: an unchanged build reads these before
it decides whether to load any of that.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

BUILD_DIR = "build"
MANIFEST_FILE = "manifest.json"
SHARED_DIR = ".shared"  # content-addressed templates every environment links to
# The app's bootstrap stack (artifacts bucket, one ECR repository per process), rendered into
# every environment's folder: each environment bootstraps its own account and region.
BOOTSTRAP_FILE = "bootstrap.json"
# Only when bootstrap.json is too large to send inline: its artifacts bucket alone, which a first
# bootstrap creates before it reads bootstrap.json from that bucket.
BOOTSTRAP_BUCKET_FILE = "bootstrap-bucket.json"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """build/ENV/manifest.json as a mapping; None when it is missing, unreadable or not one."""
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None
