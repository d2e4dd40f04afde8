"""Parity between two built environments: which templates are the same, and which values differ.

Twelve-factor X wants environments to differ in configuration only, so a reviewer asks "what
will prod run that staging did not?". This answers from build/ENV and build/OTHER alone (the
manifests' hashes, then the templates' JSON), never from AWS. Values that differ only because
they embed the environment's name, account id or region are normalised before comparing and
counted, not listed. When templates become environment-agnostic (issue 11 item 1) the children
hash the same and the differences move into root.json's nested-stack parameters; both read here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from factorstack.build.manifest import (
    ROOT_FILE,
    Build,
    check_current,
    load_build,
    verify_templates,
)

IDENTICAL = "identical"  # the same bytes (the manifests' hashes match)
NAMES_ONLY = "names only"  # differs only by the normalised names
DIFFERS = "differs"
ONE_SIDE = "one side"  # built in one environment only
# Sections whose entries may exist on one side only; such an entry is reported, not walked.
NAMED_SECTIONS = ("Resources", "Outputs", "Parameters", "Conditions")
# A list of objects is compared by the first of these keys every item has (e.g. a container's
# Environment by Name, Tags by Key), so one added item does not shift all the others.
ITEM_KEYS = ("Name", "Key", "ParameterKey", "Id", "Sid")
# Resource Metadata that only explains a lint finding to a reader (why a rule is skipped); it
# changes nothing AWS does, so a difference there is counted, not listed.
LINT_NOTES = frozenset({"guard", "checkov", "cfn-lint", "cfn_nag"})
HIDDEN = "(NoEcho)"
ABSENT = "(none)"
LONGEST_VALUE = 80

_MISSING: Any = object()


@dataclass(frozen=True)
class TemplatePair:
    """One template file and its SHA-256 in each environment (None: not built there)."""

    file: str
    left: str | None
    right: str | None
    status: str


@dataclass(frozen=True)
class Difference:
    """One value that differs: `process-web.json  WebTaskDefinition.Cpu  256 → 1024`."""

    file: str
    path: str
    left: str  # as shown (rendered, maybe shortened)
    right: str
    left_value: Any = None  # as in the template (None: absent or hidden), for --json
    right_value: Any = None

    def line(self) -> str:
        stack, marker, name = self.path.partition(".Parameters.")
        if self.file == ROOT_FILE and marker:  # a value root.json passes a shared child
            return f"{stack}  {name}  {self.left} → {self.right}"
        return f"{self.file}  {self.path}  {self.left} → {self.right}"


@dataclass(frozen=True)
class OneSided:
    """A template, resource, output, parameter or condition only one environment has."""

    file: str
    path: str | None  # None: the whole template
    environment: str

    def line(self) -> str:
        where = f"{self.file}  {self.path}" if self.path else self.file
        return f"{where}: only in {self.environment}"


@dataclass(frozen=True)
class Normalised:
    """A name that differs between the two sides and was replaced before comparing."""

    kind: str  # environment, account or region
    left: str
    right: str


@dataclass
class Parity:
    """The comparison of build/LEFT with build/RIGHT."""

    left: str
    right: str
    templates: list[TemplatePair]
    differences: list[Difference] = field(default_factory=list)
    one_sided: list[OneSided] = field(default_factory=list)
    normalised: list[Normalised] = field(default_factory=list)
    folded: int = 0  # values that differed only by the normalised names
    notes: int = 0  # resources whose lint justifications (LINT_NOTES) differ

    def count(self, status: str) -> int:
        return sum(1 for pair in self.templates if pair.status == status)


def compare_builds(root: Path, left: str, right: str) -> Parity:
    """Compare build/LEFT with build/RIGHT under the repo root; NotReady when either build is
    missing, was altered after it was built, or is older than its config."""
    builds = (load_build(root, left), load_build(root, right))
    for build in builds:
        verify_templates(build)
        check_current(build, root)
    return compare(*builds)


def compare(left: Build, right: Build) -> Parity:
    """The parity of two loaded builds (their templates are read from their folders)."""
    names = _names(left, right)
    parity = Parity(left.environment, right.environment, [], normalised=names)
    for file in sorted(set(left.templates) | set(right.templates)):
        pair = _pair(left, right, file)
        if pair.status == ONE_SIDE:
            only = left if pair.left else right
            parity.one_sided.append(OneSided(file, None, only.environment))
        elif pair.status == DIFFERS:
            walker = _Walker(file, names, left.environment, right.environment)
            walker.template(_read(left, file), _read(right, file))
            parity.differences += walker.differences
            parity.one_sided += walker.one_sided
            parity.folded += walker.folded
            parity.notes += walker.notes
            if not walker.differences and not walker.one_sided:
                pair = TemplatePair(file, pair.left, pair.right, NAMES_ONLY)
        parity.templates.append(pair)
    return parity


def _names(left: Build, right: Build) -> list[Normalised]:
    pairs = [
        Normalised("environment", left.environment, right.environment),
        Normalised("account", left.target.account, right.target.account),
        Normalised("region", left.target.region, right.target.region),
    ]
    return [pair for pair in pairs if pair.left != pair.right]


def _pair(left: Build, right: Build, file: str) -> TemplatePair:
    a, b = left.templates.get(file), right.templates.get(file)
    if a is None or b is None:
        return TemplatePair(file, a, b, ONE_SIDE)
    return TemplatePair(file, a, b, IDENTICAL if a == b else DIFFERS)


def _read(build: Build, file: str) -> dict[str, Any]:
    data = json.loads((build.folder / file).read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def _pattern(name: str) -> re.Pattern[str]:
    """`name` as a whole word: `dev` in `example-dev-web`, never in `device`."""
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9])")


def _is_leaf(value: Any) -> bool:
    """Scalars, and intrinsic functions (`{"Ref": ..}`, `{"Fn::Sub": ..}`) shown whole."""
    if isinstance(value, dict):
        only = next(iter(value)) if len(value) == 1 else ""
        return only == "Ref" or only.startswith("Fn::")
    return not isinstance(value, list)


def _item_key(left: list[Any], right: list[Any]) -> str | None:
    """The key that names every item of both lists uniquely, if there is one."""
    items = left + right
    if not items or not all(isinstance(item, dict) for item in items):
        return None
    for key in ITEM_KEYS:
        if all(isinstance(item.get(key), str) for item in items) and all(
            len({item[key] for item in side}) == len(side) for side in (left, right)
        ):
            return key
    return None


def render(value: Any) -> str:
    """A value as a reviewer reads it: `256`, `true`, `example-prod-web`, compact JSON."""
    if value is _MISSING:
        return ABSENT
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = value or '""'  # an empty setting (no certificate, no domain) stays visible
    else:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return text if len(text) <= LONGEST_VALUE else text[: LONGEST_VALUE - 1] + "…"


class _Walker:
    """Walks two versions of one template, collecting differences and one-sided entries."""

    def __init__(self, file: str, names: list[Normalised], left_env: str, right_env: str) -> None:
        self.file = file
        self.envs = (left_env, right_env)
        self.patterns = [(_pattern(n.left), _pattern(n.right), f"«{n.kind}»") for n in names]
        self.differences: list[Difference] = []
        self.one_sided: list[OneSided] = []
        self.folded = 0
        self.notes = 0
        self.hidden: set[str] = set()

    def template(self, left: dict[str, Any], right: dict[str, Any]) -> None:
        self.hidden = _no_echo(left) | _no_echo(right)
        for section in sorted(set(left) | set(right)):
            if section in NAMED_SECTIONS:
                self._named(section, left.get(section) or {}, right.get(section) or {})
                continue
            self._walk(left.get(section, _MISSING), right.get(section, _MISSING), section)

    def _named(self, section: str, left: dict[str, Any], right: dict[str, Any]) -> None:
        for name in sorted(set(left) | set(right)):
            shown = name if section == "Resources" else f"{section}.{name}"
            if name not in right or name not in left:
                env = self.envs[0] if name in left else self.envs[1]
                self.one_sided.append(OneSided(self.file, shown, env))
            elif section == "Resources":
                self._resource(shown, left[name], right[name])
            else:
                self._walk(left[name], right[name], shown)

    def _resource(self, logical_id: str, left: Any, right: Any) -> None:
        """A resource's properties read as `Id.Property`, its attributes as `Id.DeletionPolicy`."""
        if not (isinstance(left, dict) and isinstance(right, dict)):
            self._walk(left, right, logical_id)
            return
        for key in sorted(set(left) | set(right)):
            a, b = left.get(key, _MISSING), right.get(key, _MISSING)
            if key == "Metadata":
                a, b = self._without_notes(a, b)
            path = logical_id if key == "Properties" else f"{logical_id}.{key}"
            self._walk(a, b, path)

    def _without_notes(self, left: Any, right: Any) -> tuple[Any, Any]:
        """Metadata without its lint justifications; counts the resource if those differ."""
        if not (isinstance(left, dict) or isinstance(right, dict)):
            return left, right
        (kept_a, notes_a), (kept_b, notes_b) = _split_notes(left), _split_notes(right)
        if self._normalise(notes_a, 0) != self._normalise(notes_b, 1):
            self.notes += 1
        return kept_a, kept_b

    def _walk(self, left: Any, right: Any, path: str) -> None:
        if left == right:
            return
        left, right = _opened(left, right), _opened(right, left)
        if _both_objects(left, right):
            for key in sorted(set(left) | set(right)):
                self._walk(left.get(key, _MISSING), right.get(key, _MISSING), f"{path}.{key}")
            return
        if isinstance(left, list) and isinstance(right, list):
            self._list(left, right, path)
            return
        self._leaf(left, right, path)

    def _list(self, left: list[Any], right: list[Any], path: str) -> None:
        """Walk two lists item by item: by name, else by position, else added and removed."""
        key = _item_key(left, right)
        if key is not None:
            a = {item[key]: item for item in left}
            b = {item[key]: item for item in right}
            for name in sorted(set(a) | set(b)):
                item = (
                    _item_body(a.get(name, _MISSING), key),
                    _item_body(b.get(name, _MISSING), key),
                )
                if _MISSING in item:  # on one side only: one line, not one per field
                    self._leaf(*item, f"{path}[{name}]")
                else:
                    self._walk(a[name], b[name], f"{path}[{name}]")
        elif len(left) == len(right):
            for index, (a, b) in enumerate(zip(left, right, strict=True)):
                self._walk(a, b, f"{path}[{index}]")
        else:
            self._added_removed(left, right, path)

    def _added_removed(self, left: list[Any], right: list[Any], path: str) -> None:
        """Lists of different lengths: the items one side has and the other has not."""
        b_forms = [self._normalise(item, 1) for item in right]
        a_forms = [self._normalise(item, 0) for item in left]
        removed = [item for item, form in zip(left, a_forms, strict=True) if form not in b_forms]
        added = [item for item, form in zip(right, b_forms, strict=True) if form not in a_forms]
        if not removed and not added:
            self.folded += 1
            return
        shown = ["; ".join(render(item) for item in items) or ABSENT for items in (removed, added)]
        self.differences.append(
            Difference(self.file, f"{path}[]", shown[0], shown[1], removed, added)
        )

    def _leaf(self, left: Any, right: Any, path: str) -> None:
        if self._normalise(left, 0) == self._normalise(right, 1):
            self.folded += 1
            return
        if _parameter_name(path) in self.hidden:
            self.differences.append(Difference(self.file, path, HIDDEN, HIDDEN))
            return
        values = [None if value is _MISSING else value for value in (left, right)]
        self.differences.append(Difference(self.file, path, render(left), render(right), *values))

    def _normalise(self, value: Any, side: int) -> str:
        if value is _MISSING:
            return "\0missing"
        text = json.dumps(value, sort_keys=True)
        for *patterns, placeholder in self.patterns:
            text = patterns[side].sub(placeholder, text)
        return text


def _item_body(item: Any, key: str) -> Any:
    """A named list item without its name: `{"Name": "X", "Value": "1"}` reads as `1`."""
    if item is _MISSING:
        return item
    rest = {k: v for k, v in item.items() if k != key}
    return next(iter(rest.values())) if len(rest) == 1 else rest


def _both_objects(left: Any, right: Any) -> bool:
    """Two JSON objects to compare key by key (not intrinsic functions shown whole)."""
    objects = isinstance(left, dict) and isinstance(right, dict)
    return objects and not (_is_leaf(left) or _is_leaf(right))


def _split_notes(metadata: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A resource's Metadata as (what AWS reads, the lint justifications)."""
    if not isinstance(metadata, dict):
        return {}, {}
    kept = {k: v for k, v in metadata.items() if k not in LINT_NOTES}
    return kept, {k: v for k, v in metadata.items() if k in LINT_NOTES}


def _opened(value: Any, other: Any) -> Any:
    """A missing object or list beside a present one reads as empty, so its entries are listed
    one by one (`WebStack.Parameters.Cpu  (none) → 1024`) instead of as one JSON blob."""
    if value is not _MISSING or _is_leaf(other):
        return value
    return {} if isinstance(other, dict) else []


def _no_echo(template: dict[str, Any]) -> set[str]:
    """Parameters whose values are never shown (NoEcho), on either side."""
    parameters = template.get("Parameters")
    if not isinstance(parameters, dict):
        return set()
    return {
        name
        for name, spec in parameters.items()
        if isinstance(spec, dict) and str(spec.get("NoEcho", "")).lower() == "true"
    }


def _parameter_name(path: str) -> str | None:
    """`Parameters.DbPassword.Default` → `DbPassword`."""
    parts = path.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "Parameters" else None


def summary_counts(parity: Parity) -> Iterator[tuple[str, int]]:
    """(status, how many templates) in a fixed order, zero counts left out."""
    for status in (IDENTICAL, NAMES_ONLY, DIFFERS, ONE_SIDE):
        count = parity.count(status)
        if count:
            yield status, count
