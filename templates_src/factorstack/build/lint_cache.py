"""Lint each distinct template once per build, and once per machine while nothing that decides
cfn-lint's answer changes.

A template's lint key is the SHA-256 of everything that answer depends on: its bytes, the bytes of
the nested-stack templates it names by a local TemplateURL (cfn-lint's E3043 reads their
Parameters), the cfn-lint version with our rules' hash, and the checks asked for. Templates with
the same key (bootstrap.json in every environment) are linted once, in one cfn-lint call.

Only clean answers are stored, with the regions they were clean in: a template with a finding is
linted again on every build, so a finding can never come back as clean. The cache is a folder
of small files outside the repo; deleting it, or any file in it, only costs time, and an entry
that cannot be read counts as missing.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from factorstack.lint import IGNORED_RULES, INCLUDED_RULES, RULES_PACKAGE, LintFinding

# "off" turns the cache off (to measure the build); any other value is the cache folder.
CACHE_ENV = "FACTORSTACK_LINT_CACHE"
_OFF = frozenset({"off", "0", "no", "false"})
# Bumped when an entry's meaning changes, so older entries are simply never found.
_FORMAT = "factorstack-lint-cache 1"
_REMOTE = ("http://", "https://", "s3://")

Run = Callable[[list[Path], list[str]], list[LintFinding]]


def cache_folder(environ: Mapping[str, str] = os.environ) -> Path | None:
    """Where clean answers are kept: $FACTORSTACK_LINT_CACHE, else the XDG user cache folder;
    None when the cache is off."""
    chosen = environ.get(CACHE_ENV, "").strip()
    if chosen.lower() in _OFF:
        return None
    if chosen:
        return Path(chosen).expanduser()
    xdg = environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"  # XDG: relative is unset
    return base / "factorstack" / "lint"


def _strings(value: Any) -> Iterator[str]:
    """Every string inside a JSON value (a TemplateURL may sit inside Fn::If)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _nested_templates(data: bytes) -> list[str]:
    """The local TemplateURLs of a template's nested stacks, sorted."""
    if b"AWS::CloudFormation::Stack" not in data:
        return []
    try:
        resources = json.loads(data).get("Resources")
    except (ValueError, AttributeError):
        return []  # not a JSON object: cfn-lint reads no other file for it either
    urls: set[str] = set()
    for resource in resources.values() if isinstance(resources, dict) else []:
        if isinstance(resource, dict) and resource.get("Type") == "AWS::CloudFormation::Stack":
            properties = resource.get("Properties")
            if isinstance(properties, dict):
                urls.update(_strings(properties.get("TemplateURL")))
    return sorted(url for url in urls if not url.startswith(_REMOTE))


def _file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "missing"


def lint_key(path: Path, linter: str) -> str:
    """What decides cfn-lint's answer for one template file, as one SHA-256."""
    data = path.read_bytes()
    digest = hashlib.sha256()
    checks = f"include {INCLUDED_RULES} ignore {IGNORED_RULES} append {RULES_PACKAGE}"
    for part in (_FORMAT, linter, checks, hashlib.sha256(data).hexdigest()):
        digest.update(part.encode() + b"\0")
    for url in _nested_templates(data):
        child = Path(os.path.normpath(path.parent / url))
        digest.update(f"{url}\0{_file_digest(child)}\0".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class LintCache:
    """Clean answers by lint key; folder None keeps nothing."""

    folder: Path | None

    @classmethod
    def from_environment(cls) -> LintCache:
        return cls(cache_folder())

    def _entry(self, key: str) -> Path | None:
        return None if self.folder is None else self.folder / key[:2] / f"{key}.json"

    def clean_in(self, key: str) -> set[str]:
        """The regions this key was linted clean in; none when unknown or unreadable."""
        entry = self._entry(key)
        try:
            stored = json.loads(entry.read_bytes()) if entry else None
        except (OSError, ValueError):
            return set()
        if not isinstance(stored, dict) or stored.get("format") != _FORMAT:
            return set()
        regions = stored.get("clean_in")
        if not isinstance(regions, list) or not all(isinstance(r, str) for r in regions):
            return set()
        return set(regions)

    def record_clean(self, key: str, regions: list[str]) -> None:
        """Remember a clean answer; a cache that cannot be written is no cache, not an error."""
        entry = self._entry(key)
        if entry is None:
            return
        known = sorted(self.clean_in(key) | set(regions))
        body = json.dumps({"format": _FORMAT, "clean_in": known}).encode()
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=entry.parent, prefix=".tmp-")
            with os.fdopen(handle, "wb") as out:
                out.write(body)
            os.replace(temporary, entry)  # two builds at once: each entry whole or absent
        except OSError:
            return


@dataclass(frozen=True)
class LintRun:
    """Findings for every file asked about, and how much work it took."""

    findings: list[LintFinding]
    distinct: int  # distinct lint keys among the files
    linted: int  # of those, how many cfn-lint checked (the others were clean in the cache)


def _spread(findings: list[LintFinding], groups: dict[str, list[Path]]) -> list[LintFinding]:
    """A finding in the file that was linted holds for every file with the same key."""
    copies = {str(group[0]): group[1:] for group in groups.values()}
    spread: list[LintFinding] = []
    for finding in findings:
        spread.append(finding)
        for twin in copies.get(finding.file, []):
            spread.append(LintFinding(str(twin), finding.line, finding.rule, finding.message))
    return sorted(set(spread), key=lambda f: (f.file, f.line, f.rule, f.message))


def _record(
    cache: LintCache, linted: dict[str, list[Path]], findings: list[LintFinding], regions: list[str]
) -> None:
    """Store the keys whose file had no finding; nothing when a finding names another file
    (it cannot be told which template it belongs to)."""
    by_file = {str(group[0]): key for key, group in linted.items()}
    if any(finding.file not in by_file for finding in findings):
        return
    found = {finding.file for finding in findings}
    for file, key in by_file.items():
        if file not in found:
            cache.record_clean(key, regions)


def lint_distinct(
    paths: list[Path], regions: list[str], linter: str, run: Run, cache: LintCache
) -> LintRun:
    """Lint one file per distinct key that the cache does not know clean in all `regions`,
    in one `run` call (none when every key is known), and report for every file."""
    groups: dict[str, list[Path]] = {}
    for path in paths:
        groups.setdefault(lint_key(path, linter), []).append(path)
    needed = sorted(set(regions))
    unknown = {key: group for key, group in groups.items() if set(needed) - cache.clean_in(key)}
    if not unknown:
        return LintRun([], len(groups), 0)
    findings = run([group[0] for group in unknown.values()], needed)
    _record(cache, unknown, findings, needed)
    return LintRun(_spread(findings, unknown), len(groups), len(unknown))
