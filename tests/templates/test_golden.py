"""The templates `factorstack build` writes for the sample app, compared byte for byte with the
copies committed under tests/golden/ENV/, so that every change to a template is seen in review.

Rendered without a release record (its digests change with every release) and without
manifest.json (hashes and the linter's version): templates only.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from factorstack.build import render_environment
from factorstack.config import load_model

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "golden"
UPDATE_FLAG = "--update-golden"
HOW_TO_UPDATE = (
    f"if the change is intended: .venv/bin/python -m pytest tests/templates/test_golden.py "
    f"{UPDATE_FLAG}, then review `git diff tests/golden`"
)
DIFF_LINES_SHOWN = 60
ENVIRONMENTS = sorted(path.stem for path in (REPO / "environments").glob("*.yaml"))


def _rendered(env: str) -> dict[str, bytes]:
    """build/ENV/*.json as the build writes them, the manifest aside."""
    return render_environment(load_model(REPO, env)).files


def _golden(env: str) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted((GOLDEN / env).glob("*.json"))}


def _rewrite(env: str, files: dict[str, bytes]) -> None:
    folder = GOLDEN / env
    folder.mkdir(parents=True, exist_ok=True)
    for stale in set(_golden(env)) - set(files):
        (folder / stale).unlink()
    for name, data in files.items():
        (folder / name).write_bytes(data)


def _difference(env: str, name: str, golden: bytes | None, rendered: bytes | None) -> str:
    if golden is None:
        return f"{env}/{name}: a new template, with no golden copy"
    if rendered is None:
        return f"{env}/{name}: the build no longer writes it, but a golden copy remains"
    lines = list(
        difflib.unified_diff(
            golden.decode().splitlines(),
            rendered.decode().splitlines(),
            f"tests/golden/{env}/{name}",
            f"build/{env}/{name}",
            lineterm="",
        )
    )
    shown = lines[:DIFF_LINES_SHOWN]
    if len(lines) > DIFF_LINES_SHOWN:
        shown.append(f"... {len(lines) - DIFF_LINES_SHOWN} more diff lines")
    return "\n".join(shown)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_templates_match_the_golden_copies(env: str, request: pytest.FixtureRequest) -> None:
    rendered = _rendered(env)
    if request.config.getoption(UPDATE_FLAG):
        _rewrite(env, rendered)
        return
    golden = _golden(env)
    differences = [
        _difference(env, name, golden.get(name), rendered.get(name))
        for name in sorted(set(golden) | set(rendered))
        if golden.get(name) != rendered.get(name)
    ]
    assert not differences, "\n".join([*differences, HOW_TO_UPDATE])


def test_every_golden_folder_is_an_environment(request: pytest.FixtureRequest) -> None:
    """A removed environment leaves no golden copies behind to mislead a reviewer."""
    folders = sorted(path.name for path in GOLDEN.glob("*") if path.is_dir())
    if request.config.getoption(UPDATE_FLAG):
        for stale in set(folders) - set(ENVIRONMENTS):
            _rewrite(stale, {})
            (GOLDEN / stale).rmdir()
        return
    assert folders == ENVIRONMENTS, HOW_TO_UPDATE
