"""Telling that build/ENV is current without rendering it (nor loading the config models).

A build is current when its manifest records the same inputs (config_sha256: app.yaml, the
environment file, the release record), the same environment files (`promotes_from` is checked
against them), the same code fingerprint, the same linter (unless --no-lint), and every file in
build/ENV still hashes as the manifest says. Then a full build would render the same bytes and
find nothing to write or lint. Any doubt answers None, and the caller builds in full.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from factorstack.build.layout import BUILD_DIR, MANIFEST_FILE, read_manifest, sha256
from factorstack.config.files import config_sha256, environment_names

# Manifest fields written by the full build for this check (and shown by nothing else).
FINGERPRINT_FIELD = "code_fingerprint"
ENVIRONMENTS_FIELD = "environment_files"  # the environments/*.yaml names when it was built
RESOURCES_FIELD = "resources"  # per template, as `factorstack build` reports them
WARNINGS_FIELD = "warnings"  # CloudFormation limit warnings, printed again on every build


@dataclass(frozen=True)
class Summary:
    """What `factorstack build` prints about one environment."""

    name: str
    templates: int
    resources: int
    written: bool
    warnings: tuple[str, ...] = ()


def unchanged_builds(
    root: Path, only: list[str] | None, linted_by: str | None, fingerprint: str
) -> list[Summary] | None:
    """A summary per environment (all, or `only`) when every one is current; else None."""
    known = environment_names(root)
    names = only or known
    if not names or not set(names) <= set(known):
        return None  # the full build explains what is wrong
    summaries = []
    for name in names:
        summary = _unchanged(root, name, known, linted_by, fingerprint)
        if summary is None:
            return None
        summaries.append(summary)
    return summaries


def _unchanged(
    root: Path, name: str, known: list[str], linted_by: str | None, fingerprint: str
) -> Summary | None:
    folder = root / BUILD_DIR / name
    manifest = read_manifest(folder)
    if manifest is None:
        return None
    expected: dict[str, Any] = {
        "environment": name,
        FINGERPRINT_FIELD: fingerprint,
        ENVIRONMENTS_FIELD: known,
        "config_sha256": config_sha256(root, name),
    }
    if linted_by is not None:  # with --no-lint a full build keeps whatever linted them last
        expected["linted_by"] = linted_by
    if any(manifest.get(key) != value for key, value in expected.items()):
        return None
    templates = manifest.get("templates")
    if not isinstance(templates, dict) or not _as_recorded(folder, templates):
        return None
    return _summary(name, templates, manifest)


def _as_recorded(folder: Path, templates: dict[Any, Any]) -> bool:
    """build/ENV holds exactly the manifest and its templates, each with the recorded hash."""
    try:
        if set(os.listdir(folder)) != set(templates) | {MANIFEST_FILE}:
            return False
        return all(sha256((folder / name).read_bytes()) == templates[name] for name in templates)
    except OSError:
        return False


def _summary(name: str, templates: dict[Any, Any], manifest: dict[str, Any]) -> Summary | None:
    """The summary from the manifest's own record; None if that record is not what we wrote."""
    resources = manifest.get(RESOURCES_FIELD)
    warnings = manifest.get(WARNINGS_FIELD)
    if not isinstance(resources, dict) or set(resources) != set(templates):
        return None
    if not all(isinstance(count, int) for count in resources.values()):
        return None
    if not isinstance(warnings, list) or not all(isinstance(w, str) for w in warnings):
        return None
    return Summary(name, len(templates), sum(resources.values()), False, tuple(warnings))
