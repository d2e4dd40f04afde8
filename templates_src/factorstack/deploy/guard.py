"""The data-loss guard: refuse to remove or replace a stateful resource unless allowed by name.

Two sources of evidence, merged per resource:
- the change sets (Action Remove, or Replacement True/Conditional with its causing properties);
- an offline prediction comparing each deployed template with the new one: a change to one of a
  stateful resource's `createOnlyProperties` (from the resource schemas shipped with cfn-lint)
  means replacement, and a stateful resource missing from the new template means removal. This
  protects data even where a change set says nothing (and against a local endpoint).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from factorstack.deploy.review import Row
from factorstack.errors import GuardRefusal

STATEFUL_TYPES = frozenset(
    {
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBCluster",
        "AWS::ElastiCache::ReplicationGroup",
        "AWS::ElastiCache::CacheCluster",
        "AWS::SecretsManager::Secret",
        "AWS::Logs::LogGroup",
        "AWS::S3::Bucket",
        "AWS::KMS::Key",
        "AWS::EFS::FileSystem",
        "AWS::DynamoDB::Table",
    }
)
SCHEMA_REGION = "us-east-1"
MISSING = object()


@dataclass
class Finding:
    """A stateful resource that would lose its data, and every reason we know of."""

    stack: str
    logical_id: str
    resource_type: str
    reasons: list[str] = field(default_factory=list)

    def line(self) -> str:
        return f"{self.stack}: {self.logical_id} ({self.resource_type}): " + "; ".join(self.reasons)


def findings_from_rows(rows: Iterable[Row]) -> list[Finding]:
    """Stateful resources that a change set removes or (possibly) replaces."""
    found: list[Finding] = []
    for row in rows:
        if row.resource_type not in STATEFUL_TYPES:
            continue
        if row.action == "Remove":
            found.append(Finding(row.stack, row.logical_id, row.resource_type, ["removed"]))
        elif row.replacement in {"True", "Conditional"}:
            cause = f" by {', '.join(row.causes)}" if row.causes else ""
            reason = f"replaced (Replacement {row.replacement}){cause}"
            found.append(Finding(row.stack, row.logical_id, row.resource_type, [reason]))
    return found


@lru_cache(maxsize=64)
def create_only_properties(resource_type: str) -> tuple[tuple[str, ...], ...]:
    """The createOnlyProperties of a type as property paths, from cfn-lint's schemas."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER, ResourceNotFoundError

    try:
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(SCHEMA_REGION, resource_type).schema
    except ResourceNotFoundError:  # an unknown type has no schema to predict from
        return ()
    paths = []
    for pointer in schema.get("createOnlyProperties", []):
        parts = tuple(p for p in pointer.split("/") if p)
        if parts and parts[0] == "properties":
            paths.append(parts[1:])
    return tuple(paths)


def _lookup(properties: Any, path: tuple[str, ...]) -> Any:
    value = properties
    for part in path:
        if part == "*" or not isinstance(value, dict) or part not in value:
            return MISSING if part != "*" else value
        value = value[part]
    return value


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def predict(stack_path: str, deployed: dict[str, Any], new: dict[str, Any] | None) -> list[Finding]:
    """Offline: stateful resources of a deployed template that the new one removes or replaces."""
    old_resources = deployed.get("Resources") or {}
    new_resources = (new or {}).get("Resources") or {}
    found: list[Finding] = []
    for logical_id, old in sorted(old_resources.items()):
        resource_type = old.get("Type", "") if isinstance(old, dict) else ""
        if resource_type not in STATEFUL_TYPES:
            continue
        finding = Finding(stack_path, logical_id, resource_type)
        fresh = new_resources.get(logical_id)
        if not isinstance(fresh, dict):
            finding.reasons.append("removed (offline: not in the new template)")
        elif fresh.get("Type") != resource_type:
            finding.reasons.append(f"replaced (offline: type changes to {fresh.get('Type')})")
        else:
            old_props = old.get("Properties") or {}
            new_props = fresh.get("Properties") or {}
            changed = [
                "/".join(path)
                for path in create_only_properties(resource_type)
                if _canonical(_lookup(old_props, path)) != _canonical(_lookup(new_props, path))
            ]
            if changed:
                finding.reasons.append(
                    f"replaced (offline: create-only {', '.join(changed)} changed)"
                )
        if finding.reasons:
            found.append(finding)
    return found


def merge(*groups: Iterable[Finding]) -> list[Finding]:
    """One finding per resource, with the reasons from every source."""
    merged: dict[tuple[str, str], Finding] = {}
    for group in groups:
        for finding in group:
            key = (finding.stack, finding.logical_id)
            if key not in merged:
                merged[key] = Finding(finding.stack, finding.logical_id, finding.resource_type)
            for reason in finding.reasons:
                if reason not in merged[key].reasons:
                    merged[key].reasons.append(reason)
    return list(merged.values())


@dataclass(frozen=True)
class Verdict:
    """The findings split once into those --allow-replace names and those it does not."""

    findings: list[Finding]  # all of them, in the order found
    allowed: list[Finding]
    blocked: list[Finding]

    def allowed_lines(self) -> list[str]:
        return [f"allowed by --allow-replace: {f.line()}" for f in self.allowed]


def judge(findings: Iterable[Finding], allowed: Iterable[str]) -> Verdict:
    """Which findings --allow-replace lets through and which block the change set."""
    allow = set(allowed)
    found = list(findings)
    return Verdict(
        findings=found,
        allowed=[f for f in found if f.logical_id in allow],
        blocked=[f for f in found if f.logical_id not in allow],
    )


def enforce(verdict: Verdict, echo: Callable[[str], None]) -> list[str]:
    """Refuse (exit 3) when a finding is blocked; return the lines of the allowed ones."""
    lines = verdict.allowed_lines()
    for line in lines:
        echo(line)
    if verdict.blocked:
        ids = " ".join(
            f"--allow-replace {i}" for i in sorted({f.logical_id for f in verdict.blocked})
        )
        raise GuardRefusal(
            "data-loss guard: this change would remove or replace stateful resources:",
            *(f"  {f.line()}" for f in verdict.blocked),
            f"if the data may go, plan again with {ids}",
        )
    return lines


# --- Following values across stacks -------------------------------------------------------------
# A change that reaches a resource through a nested stack's parameter, a generated secret or an
# engine version leaves the stateful resource's own template text as it was, so `predict` cannot
# see it. The functions below follow Ref / Fn::GetAtt / Fn::Sub from each stateful resource back
# to what changes: a replaced resource (a create-only property changed) in any stack, or a
# parameter whose value changes.

STACK_TYPE = "AWS::CloudFormation::Stack"
SECRET_TYPE = "AWS::SecretsManager::Secret"
SECRET_VALUE_PROPERTIES = ("GenerateSecretString", "SecretString")
RESOLVE_SECRET = "{{resolve:secretsmanager:"
ENGINE_TYPES = frozenset(
    {
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBCluster",
        "AWS::ElastiCache::ReplicationGroup",
        "AWS::ElastiCache::CacheCluster",
    }
)
# Engines whose major version is "8.0", "10.11", "1.6"; the others count the first number only.
TWO_PART_MAJOR_ENGINES = ("mysql", "mariadb", "aurora-mysql", "aurora", "memcached")
NOT_MOVING_PROPERTIES = frozenset({"Tags"})  # labels: a new value there moves no data
HIDDEN_VALUE = "****"  # how describe_stacks shows a NoEcho parameter
LONGEST_CHAIN = 4
SUB_NAME = re.compile(r"\$\{([^!}][^}]*)\}")


@dataclass(frozen=True)
class DeployedStack:
    """One deployed stack as the guard needs it: its template and its parameter values.

    `parameters` is called only when a value is needed, so plan reads a stack's parameters
    from AWS only if following a change leads there.
    """

    template: dict[str, Any]
    parameters: Callable[[], dict[str, str]] = dict


@dataclass(frozen=True)
class Link:
    """One step of a cause: `subject` in `stack` `how` ("Vpc" "is replaced (...)")."""

    stack: str
    subject: str
    how: str
    kind: str = ""  # "parameter", "output" or "" for a resource

    def text(self, here: str) -> str:
        where = f"{self.stack}/" if self.stack and self.stack != here else ""
        owner = "root " if not self.stack and here else ""
        kind = f"{self.kind} " if self.kind else ""
        return f"{owner}{kind}{where}{self.subject} {self.how}"


@dataclass(frozen=True)
class Change:
    """Why a value differs after the update, nearest cause first, root cause last.

    `moves` says a replacement is behind it: the value now names another physical resource.
    """

    links: tuple[Link, ...]
    moves: bool

    def after(self, link: Link, moves: bool | None = None) -> Change:
        return Change((link, *self.links), self.moves if moves is None else moves)


def explain(links: tuple[Link, ...], here: str) -> str:
    """A cause as one readable line; a long chain keeps its first steps and its root cause."""
    texts = [link.text(here) for link in links]
    if len(texts) > LONGEST_CHAIN:
        texts = [*texts[:2], "…", texts[-1]]
    return " because ".join(texts)


def references(value: Any) -> list[tuple[str, str | None]]:
    """Every (name, attribute) a template value names through Ref, Fn::GetAtt and Fn::Sub."""
    found: list[tuple[str, str | None]] = []
    if isinstance(value, list):
        for item in value:
            found += references(item)
    elif isinstance(value, dict):
        if len(value) == 1 and "Ref" in value and isinstance(value["Ref"], str):
            return [(value["Ref"], None)]
        if len(value) == 1 and "Fn::GetAtt" in value:
            return [_get_att(value["Fn::GetAtt"])]
        if len(value) == 1 and "Fn::Sub" in value:
            return _sub_references(value["Fn::Sub"])
        for item in value.values():
            found += references(item)
    return found


def _get_att(target: Any) -> tuple[str, str | None]:
    if isinstance(target, str):
        name, _, attribute = target.partition(".")
        return name, attribute or None
    if not isinstance(target, list) or not target:
        return "", None
    return str(target[0]), str(target[1]) if len(target) > 1 else None


def _sub_references(sub: Any) -> list[tuple[str, str | None]]:
    """${Name} and ${Name.Attribute} of a Fn::Sub string, minus its own variables."""
    parts = sub if isinstance(sub, list) else [sub]
    text = parts[0] if parts and isinstance(parts[0], str) else ""
    variables = parts[1] if len(parts) > 1 and isinstance(parts[1], dict) else {}
    found: list[tuple[str, str | None]] = []
    for name in SUB_NAME.findall(text):
        if name not in variables:
            base, _, attribute = name.partition(".")
            found.append((base, attribute or None))
    return found + references(list(variables.values()))


def mentions(value: Any, text: str) -> bool:
    """True when any string inside a template value contains `text`."""
    if isinstance(value, str):
        return text in value
    if isinstance(value, dict):
        return any(mentions(item, text) for item in value.values())
    if isinstance(value, list):
        return any(mentions(item, text) for item in value)
    return False


def concrete(value: Any, parameter: Callable[[str], str | None]) -> str | None:
    """A value as the string CloudFormation passes on, when literals and parameters decide it."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("Ref"), str):
        return None if value["Ref"].startswith("AWS::") else parameter(value["Ref"])
    join = value.get("Fn::Join") if isinstance(value, dict) and len(value) == 1 else None
    if isinstance(join, list) and len(join) == 2 and isinstance(join[0], str):
        items = join[1] if isinstance(join[1], list) else []
        parts = [concrete(item, parameter) for item in items]
        if items and None not in parts:
            return join[0].join(p for p in parts if p is not None)
    return None


def split_path(path: str) -> tuple[str, str]:
    """'A/B' → ('A', 'B'); 'DataStack' → ('', 'DataStack')."""
    parent, _, logical_id = path.rpartition("/")
    return parent, logical_id


def _child_path(path: str, logical_id: str) -> str:
    return f"{path}/{logical_id}".lstrip("/")


def _section(template: dict[str, Any] | None, name: str) -> dict[str, Any]:
    section = (template or {}).get(name)
    return section if isinstance(section, dict) else {}


def _properties(resource: Any) -> dict[str, Any]:
    properties = resource.get("Properties") if isinstance(resource, dict) else None
    return properties if isinstance(properties, dict) else {}


def _type(resource: Any) -> str:
    return str(resource.get("Type", "")) if isinstance(resource, dict) else ""


def _first(changes: Iterable[Change | None]) -> Change | None:
    """The change to report: one caused by a replacement if any, else the first."""
    found = [change for change in changes if change is not None]
    return next((change for change in found if change.moves), found[0] if found else None)


def _major(engine: str, version: str) -> tuple[int, ...] | None:
    """The major version: 8.0 for MySQL 8.0.43, 7 for Redis 7.1, 16 for PostgreSQL 16.4."""
    numbers = tuple(int(n) for n in re.findall(r"\d+", version))
    if not numbers:
        return None
    two_parts = engine.lower() in TWO_PART_MAJOR_ENGINES or (
        "postgres" in engine.lower() and numbers[0] < 10
    )
    size = 2 if two_parts else 1
    return numbers[:size] if len(numbers) >= size else None


def engine_reason(old: dict[str, str | None], new: dict[str, str | None]) -> str | None:
    """A changed engine or major version, which no rollback undoes."""
    advice = "(irreversible; take a snapshot first)"
    if old["Engine"] and new["Engine"] and old["Engine"] != new["Engine"]:
        return f"engine changes {old['Engine']} → {new['Engine']} {advice}"
    engine = new["Engine"] or old["Engine"] or ""
    before = _major(engine, old["EngineVersion"] or "")
    after = _major(engine, new["EngineVersion"] or "")
    if before is None or after is None or before == after:
        return None
    shown = f"{'.'.join(map(str, before))} → {'.'.join(map(str, after))}"
    if after < before:
        return f"major version downgrade {shown} (not possible in place)"
    return f"major version upgrade {shown} {advice}"


def _unknown(_name: str) -> str | None:
    return None


def regenerated_secrets(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[str]]:
    """Secrets kept under their logical id whose (generated) value changes: secret → properties."""
    found: dict[str, list[str]] = {}
    for logical_id, resource in new.items():
        if _type(resource) != SECRET_TYPE or _type(old.get(logical_id)) != SECRET_TYPE:
            continue
        before, after = _properties(old[logical_id]), _properties(resource)
        changed = [
            name
            for name in SECRET_VALUE_PROPERTIES
            if _canonical(before.get(name)) != _canonical(after.get(name))
        ]
        if changed:
            found[logical_id] = changed
    return found


def secret_reads(resource: dict[str, Any], secrets: Iterable[str]) -> dict[str, list[str]]:
    """Which of `secrets` a resource reads through {{resolve:secretsmanager:...}}, by property."""
    wanted = set(secrets)
    reads: dict[str, list[str]] = {}
    for key, value in sorted(_properties(resource).items()):
        if not mentions(value, RESOLVE_SECRET):
            continue
        for name, _attribute in references(value):
            if name in wanted and key not in reads.setdefault(name, []):
                reads[name].append(key)
    return reads


def stranded_reasons(
    logical_id: str, resource_type: str, secret: str, names: list[str], changed: list[str]
) -> list[str]:
    """Why a resource that resolves a regenerated secret at deploy time is left behind."""
    what = "generated value" if "GenerateSecretString" in changed else "value"
    reasons = [
        f"{', '.join(names)} read from {secret}, whose {what} changes ({', '.join(changed)} "
        f"changed): {logical_id} would keep the old credentials while tasks read the new"
    ]
    create_only = {path[0] for path in create_only_properties(resource_type) if len(path) == 1}
    fixed = [name for name in names if name in create_only]
    if fixed:
        reasons.append(
            f"replaced once CloudFormation resolves the new value (create-only "
            f"{', '.join(fixed)} reads {secret})"
        )
    return reasons


class Resolution:
    """What the update changes in every deployed stack, worked out on demand and remembered.

    `deployed` and `new` map stack paths ('' for the root, 'DataStack', 'A/B') to the deployed
    stacks and to the templates about to be deployed. Root parameters take their Default when
    they have one (plan sends the build's value) and keep their deployed value otherwise.
    """

    def __init__(self, deployed: dict[str, DeployedStack], new: dict[str, dict[str, Any]]):
        self.deployed = deployed
        self.new = new
        self.old = {path: stack.template for path, stack in deployed.items()}
        self._memo: dict[tuple[str, str, str], Change | None] = {}
        self._values: dict[str, dict[str, str]] = {}

    def _remember(
        self, key: tuple[str, str, str], work: Callable[[], Change | None]
    ) -> Change | None:
        if key not in self._memo:
            self._memo[key] = None  # a reference cycle reads "unchanged" instead of looping
            self._memo[key] = work()
        return self._memo[key]

    # -- parameters

    def old_value(self, path: str, name: str) -> str | None:
        """A parameter's deployed value (None when unknown or hidden by NoEcho)."""
        if path not in self.deployed:
            return None
        if path not in self._values:
            self._values[path] = self.deployed[path].parameters()
        value = self._values[path].get(name)
        return None if value == HIDDEN_VALUE else value

    def new_value(self, path: str, name: str) -> str | None:
        """A parameter's value after the update, when it can be known offline."""
        if self.parameter(path, name) is None:
            return self.old_value(path, name)
        return self._new_concrete(path, *self._passed(self.new, path, name))

    def _new_concrete(self, path: str, expression: Any, default: Any) -> str | None:
        if not path or expression is MISSING:
            return concrete(default, _unknown)
        parent = split_path(path)[0]
        return concrete(expression, lambda ref: self.new_value(parent, ref))

    def _passed(self, templates: dict[str, Any], path: str, name: str) -> tuple[Any, Any]:
        """How a stack's parameter is given: the parent's expression and the child's default."""
        spec = _section(templates.get(path), "Parameters").get(name)
        default = spec.get("Default", MISSING) if isinstance(spec, dict) else MISSING
        if not path:
            return MISSING, default
        parent, logical_id = split_path(path)
        stack = _section(templates.get(parent), "Resources").get(logical_id)
        passed = _properties(stack).get("Parameters")
        expression = passed.get(name, MISSING) if isinstance(passed, dict) else MISSING
        return expression, default

    def parameter(self, path: str, name: str) -> Change | None:
        """How a parameter's value changes, or None when it stays."""
        return self._remember(("parameter", path, name), lambda: self._parameter(path, name))

    def _parameter(self, path: str, name: str) -> Change | None:
        if name not in _section(self.new.get(path), "Parameters"):
            return None
        expression, default = self._passed(self.new, path, name)
        if not path:  # plan sends a root parameter's Default, else its deployed value
            return self._compared(path, name, concrete(default, _unknown))
        parent = split_path(path)[0]
        if expression is not MISSING:
            change = self.upstream(parent, expression)
            if change is not None:
                return change.after(Link(path, name, "changes", "parameter"))
        if _canonical(self._passed(self.old, path, name)) == _canonical((expression, default)):
            return None
        value = self._new_concrete(path, expression, default)
        if value is not None:
            return self._compared(path, name, value)
        moves = any(not ref.startswith("AWS::") for ref, _ in references(expression))
        how = f"is passed differently by {parent or 'the root'}"
        return Change((Link(path, name, how, "parameter"),), moves=moves)

    def _compared(self, path: str, name: str, value: str | None) -> Change | None:
        old = self.old_value(path, name)
        if value is None or old is None or old == value:
            return None
        return Change((Link(path, name, "gets a new value", "parameter"),), moves=False)

    # -- resources and outputs

    def resource(self, path: str, logical_id: str) -> Change | None:
        """Why a resource is replaced (a new physical resource), or None when it is kept."""
        key = ("resource", path, logical_id)
        return self._remember(key, lambda: self._resource(path, logical_id))

    def _resource(self, path: str, logical_id: str) -> Change | None:
        old = _section(self.old.get(path), "Resources").get(logical_id)
        new = _section(self.new.get(path), "Resources").get(logical_id)
        if not isinstance(old, dict) or not isinstance(new, dict):
            return None  # added or removed: nothing kept that could be replaced
        if _type(old) != _type(new):
            return Change((Link(path, logical_id, f"is replaced (type {_type(new)})"),), True)
        changed, caused = self.create_only_changes(path, old, new)
        if changed:
            how = f"is replaced (create-only {', '.join(changed)} changed)"
            return Change((Link(path, logical_id, how),), moves=True)
        if caused:
            name, change = caused[0]
            how = f"is replaced (create-only {name} changes)"
            return change.after(Link(path, logical_id, how), moves=True)
        return None

    def create_only_changes(
        self, path: str, old: dict[str, Any], new: dict[str, Any]
    ) -> tuple[list[str], list[tuple[str, Change]]]:
        """Create-only properties whose text changes, and those whose value changes upstream."""
        old_properties, new_properties = _properties(old), _properties(new)
        changed: list[str] = []
        caused: list[tuple[str, Change]] = []
        for property_path in create_only_properties(_type(new)):
            name = "/".join(property_path)
            before = _lookup(old_properties, property_path)
            after = _lookup(new_properties, property_path)
            if _canonical(before) != _canonical(after):
                changed.append(name)
            elif after is not MISSING and (change := self.upstream(path, after)) is not None:
                caused.append((name, change))
        return changed, caused

    def output(self, path: str, name: str) -> Change | None:
        """How a nested stack's output changes, or None when it stays."""
        return self._remember(("output", path, name), lambda: self._output(path, name))

    def _output(self, path: str, name: str) -> Change | None:
        if path not in self.deployed:
            return Change((Link(path, name, "comes from a new stack", "output"),), moves=True)
        new = _section(self.new.get(path), "Outputs").get(name)
        if not isinstance(new, dict):
            return None  # a reference to a missing output: CloudFormation refuses the template
        old = _section(self.old[path], "Outputs").get(name)
        if not isinstance(old, dict):
            return Change((Link(path, name, "is new", "output"),), moves=True)
        if _canonical(old.get("Value")) != _canonical(new.get("Value")):
            return Change((Link(path, name, "is defined differently", "output"),), moves=True)
        return self.upstream(path, new.get("Value"))

    def upstream(self, path: str, value: Any) -> Change | None:
        """The change behind a value in one stack: something it refers to that changes."""
        parameters = _section(self.new.get(path), "Parameters")
        resources = _section(self.new.get(path), "Resources")
        changes: list[Change | None] = []
        for name, attribute in references(value):
            if attribute is None and name in parameters:
                changes.append(self.parameter(path, name))
            elif _type(resources.get(name)) == STACK_TYPE:
                if attribute and attribute.startswith("Outputs."):
                    child = _child_path(path, name)
                    changes.append(self.output(child, attribute.removeprefix("Outputs.")))
            elif name in resources:
                changes.append(self.resource(path, name))
        return _first(changes)

    # -- findings

    def findings(self, path: str, shown: str) -> list[Finding]:
        """Stateful resources of one stack that a change elsewhere replaces, moves or strands."""
        old_resources = _section(self.old.get(path), "Resources")
        new_resources = _section(self.new.get(path), "Resources")
        regenerated = regenerated_secrets(old_resources, new_resources)
        readers: dict[str, list[str]] = {}
        found: list[Finding] = []
        for logical_id, new in sorted(new_resources.items()):
            kind = _type(new)
            if kind not in STATEFUL_TYPES or _type(old_resources.get(logical_id)) != kind:
                continue
            old = old_resources[logical_id]
            reasons = self._replaced(path, old, new) + self._moved(path, new)
            reasons += self._engine(path, old, new)
            for secret, names in secret_reads(new, regenerated).items():
                readers.setdefault(secret, []).append(logical_id)
                reasons += stranded_reasons(logical_id, kind, secret, names, regenerated[secret])
            if reasons:
                found.append(Finding(shown, logical_id, kind, reasons))
        for secret, names in readers.items():
            verb = "reads" if len(names) == 1 else "read"
            changed = ", ".join(regenerated[secret])
            reason = f"regenerated while {', '.join(names)} {verb} it ({changed} changed)"
            found.append(Finding(shown, secret, SECRET_TYPE, [reason]))
        return found

    def _replaced(self, path: str, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
        """Replacement through a create-only property whose text stays but whose value moves."""
        _changed, caused = self.create_only_changes(path, old, new)
        return [
            f"replaced (offline: create-only {name} changes because {explain(c.links, path)})"
            for name, c in caused
        ]

    def _moved(self, path: str, new: dict[str, Any]) -> list[str]:
        """Properties that will name another physical resource because one upstream is replaced."""
        create_only = {p[0] for p in create_only_properties(_type(new)) if p}
        reasons = []
        for key, value in sorted(_properties(new).items()):
            if key in create_only or key in NOT_MOVING_PROPERTIES:
                continue
            change = self.upstream(path, value)
            if change is not None and change.moves:
                reasons.append(f"moves: {key} changes because {explain(change.links, path)}")
        return reasons

    def _engine(self, path: str, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
        """A new engine or major engine version, which no rollback takes back."""
        if _type(new) not in ENGINE_TYPES:
            return []
        keys = ("Engine", "EngineVersion")
        before = {
            k: concrete(_properties(old).get(k), lambda n: self.old_value(path, n)) for k in keys
        }
        after = {
            k: concrete(_properties(new).get(k), lambda n: self.new_value(path, n)) for k in keys
        }
        reason = engine_reason(before, after)
        return [reason] if reason else []


def predict_tree(
    stack_name: str, deployed: dict[str, DeployedStack], new: dict[str, dict[str, Any]]
) -> list[Finding]:
    """Offline, for a whole nested tree: `predict` per stack plus what follows values across it."""
    resolution = Resolution(deployed, new)
    found: list[Finding] = []
    for path, stack in sorted(deployed.items()):
        shown = f"{stack_name}/{path}" if path else stack_name
        found += predict(shown, stack.template, new.get(path))
        if path in new:
            found += resolution.findings(path, shown)
    return merge(found)
