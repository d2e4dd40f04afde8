"""Following values across the nested tree. A change that reaches a resource through a nested
stack's parameter, a generated secret or an engine version leaves the stateful resource's own
template text as it was, so the per-stack prediction cannot see it. Resolution follows Ref /
Fn::GetAtt / Fn::Sub from each stateful resource back to what changes: a replaced resource (a
create-only property changed) in any stack, or a parameter whose value changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from factorstack.build.resolve import resolve_tree
from factorstack.deploy.decide.guard.engines import ENGINE_TYPES, engine_reason
from factorstack.deploy.decide.guard.schema import (
    MISSING,
    canonical,
    create_only_properties,
    lookup,
    predict,
)
from factorstack.deploy.decide.guard.secrets import (
    SECRET_TYPE,
    regenerated_secrets,
    secret_reads,
    stranded_reasons,
)
from factorstack.deploy.decide.guard.values import (
    child_path,
    concrete,
    properties_of,
    references,
    section,
    split_path,
    type_of,
    unknown,
)
from factorstack.deploy.decide.guard.verdict import STATEFUL_TYPES, Finding, merge
from factorstack.deploy.decide.stacks import STACK_TYPE

NOT_MOVING_PROPERTIES = frozenset({"Tags"})  # labels: a new value there moves no data


HIDDEN_VALUE = "****"  # how describe_stacks shows a NoEcho parameter


LONGEST_CHAIN = 4


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


def _first(changes: Iterable[Change | None]) -> Change | None:
    """The change to report: one caused by a replacement if any, else the first."""
    found = [change for change in changes if change is not None]
    return next((change for change in found if change.moves), found[0] if found else None)


class Resolution:
    """What the update changes in every deployed stack, worked out on demand and remembered.

    `deployed` and `new` map stack paths ('' for the root, 'DataStack', 'A/B') to the deployed
    stacks and to the templates about to be deployed. Root parameters take their Default when
    they have one (plan sends the build's value) and keep their deployed value otherwise.
    """

    def __init__(
        self,
        deployed: dict[str, DeployedStack],
        new: dict[str, dict[str, Any]],
        values: tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]] | None = None,
    ):
        self.deployed = deployed
        self.new = new
        self.old = {path: stack.template for path, stack in deployed.items()}
        # Both sides with the literals each root passes filled in (predict_tree): a create-only
        # property whose text changes but whose value does not is no replacement.
        self.values = values
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
            old = self.old_value(path, name)
            if old is None and not path:  # a root parameter the stack does not hold yet:
                return concrete(self._passed(self.new, path, name)[1], unknown)  # its Default
            return old
        return self._new_concrete(path, *self._passed(self.new, path, name))

    def _new_concrete(self, path: str, expression: Any, default: Any) -> str | None:
        if not path or expression is MISSING:
            return concrete(default, unknown)
        parent = split_path(path)[0]
        return concrete(expression, lambda ref: self.new_value(parent, ref))

    def _passed(self, templates: dict[str, Any], path: str, name: str) -> tuple[Any, Any]:
        """How a stack's parameter is given: the parent's expression and the child's default."""
        spec = section(templates.get(path), "Parameters").get(name)
        default = spec.get("Default", MISSING) if isinstance(spec, dict) else MISSING
        if not path:
            return MISSING, default
        parent, logical_id = split_path(path)
        stack = section(templates.get(parent), "Resources").get(logical_id)
        passed = properties_of(stack).get("Parameters")
        expression = passed.get(name, MISSING) if isinstance(passed, dict) else MISSING
        return expression, default

    def parameter(self, path: str, name: str) -> Change | None:
        """How a parameter's value changes, or None when it stays."""
        return self._remember(("parameter", path, name), lambda: self._parameter(path, name))

    def _parameter(self, path: str, name: str) -> Change | None:
        if name not in section(self.new.get(path), "Parameters"):
            return None
        expression, default = self._passed(self.new, path, name)
        if not path:  # plan sends a root parameter's Default, else its deployed value
            return self._compared(path, name, concrete(default, unknown))
        parent = split_path(path)[0]
        if expression is not MISSING:
            change = self.upstream(parent, expression)
            if change is not None:
                return change.after(Link(path, name, "changes", "parameter"))
        if canonical(self._passed(self.old, path, name)) == canonical((expression, default)):
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
        old = section(self.old.get(path), "Resources").get(logical_id)
        new = section(self.new.get(path), "Resources").get(logical_id)
        if not isinstance(old, dict) or not isinstance(new, dict):
            return None  # added or removed: nothing kept that could be replaced
        if type_of(old) != type_of(new):
            return Change((Link(path, logical_id, f"is replaced (type {type_of(new)})"),), True)
        changed, caused = self.create_only_changes(path, old, new, logical_id)
        if changed:
            how = f"is replaced (create-only {', '.join(changed)} changed)"
            return Change((Link(path, logical_id, how),), moves=True)
        if caused:
            name, change = caused[0]
            how = f"is replaced (create-only {name} changes)"
            return change.after(Link(path, logical_id, how), moves=True)
        return None

    def create_only_changes(
        self, path: str, old: dict[str, Any], new: dict[str, Any], logical_id: str = ""
    ) -> tuple[list[str], list[tuple[str, Change]]]:
        """Create-only properties whose text changes, and those whose value changes upstream."""
        old_properties, new_properties = properties_of(old), properties_of(new)
        changed: list[str] = []
        caused: list[tuple[str, Change]] = []
        for property_path in create_only_properties(type_of(new)):
            name = "/".join(property_path)
            before = lookup(old_properties, property_path)
            after = lookup(new_properties, property_path)
            if canonical(before) != canonical(after) and not self._same_value(
                path, logical_id, property_path
            ):
                changed.append(name)
            elif after is not MISSING and (change := self.upstream(path, after)) is not None:
                caused.append((name, change))
        return changed, caused

    def _same_value(self, path: str, logical_id: str, property_path: tuple[str, ...]) -> bool:
        """Whether a property reads the same on both sides once the literals each root passes
        are filled in (a literal that moved into a parameter with the same value)."""
        if self.values is None or not logical_id:
            return False
        sides = [
            lookup(
                properties_of(section(tree.get(path), "Resources").get(logical_id)), property_path
            )
            for tree in self.values
        ]
        return MISSING not in sides and canonical(sides[0]) == canonical(sides[1])

    def output(self, path: str, name: str) -> Change | None:
        """How a nested stack's output changes, or None when it stays."""
        return self._remember(("output", path, name), lambda: self._output(path, name))

    def _output(self, path: str, name: str) -> Change | None:
        if path not in self.deployed:
            return Change((Link(path, name, "comes from a new stack", "output"),), moves=True)
        new = section(self.new.get(path), "Outputs").get(name)
        if not isinstance(new, dict):
            return None  # a reference to a missing output: CloudFormation refuses the template
        old = section(self.old[path], "Outputs").get(name)
        if not isinstance(old, dict):
            return Change((Link(path, name, "is new", "output"),), moves=True)
        if canonical(old.get("Value")) != canonical(new.get("Value")):
            return Change((Link(path, name, "is defined differently", "output"),), moves=True)
        return self.upstream(path, new.get("Value"))

    def upstream(self, path: str, value: Any) -> Change | None:
        """The change behind a value in one stack: something it refers to that changes."""
        parameters = section(self.new.get(path), "Parameters")
        resources = section(self.new.get(path), "Resources")
        changes: list[Change | None] = []
        for name, attribute in references(value):
            if attribute is None and name in parameters:
                changes.append(self.parameter(path, name))
            elif type_of(resources.get(name)) == STACK_TYPE:
                if attribute and attribute.startswith("Outputs."):
                    child = child_path(path, name)
                    changes.append(self.output(child, attribute.removeprefix("Outputs.")))
            elif name in resources:
                changes.append(self.resource(path, name))
        return _first(changes)

    # -- findings

    def findings(self, path: str, shown: str) -> list[Finding]:
        """Stateful resources of one stack that a change elsewhere replaces, moves or strands."""
        old_resources = section(self.old.get(path), "Resources")
        new_resources = section(self.new.get(path), "Resources")
        regenerated = regenerated_secrets(old_resources, new_resources)
        readers: dict[str, list[str]] = {}
        found: list[Finding] = []
        for logical_id, new in sorted(new_resources.items()):
            kind = type_of(new)
            if kind not in STATEFUL_TYPES or type_of(old_resources.get(logical_id)) != kind:
                continue
            old = old_resources[logical_id]
            reasons = self._replaced(path, logical_id, old, new) + self._moved(path, new)
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

    def _replaced(
        self, path: str, logical_id: str, old: dict[str, Any], new: dict[str, Any]
    ) -> list[str]:
        """Replacement through a create-only property whose text stays but whose value moves."""
        _changed, caused = self.create_only_changes(path, old, new, logical_id)
        return [
            f"replaced (offline: create-only {name} changes because {explain(c.links, path)})"
            for name, c in caused
        ]

    def _moved(self, path: str, new: dict[str, Any]) -> list[str]:
        """Properties that will name another physical resource because one upstream is replaced."""
        create_only = {p[0] for p in create_only_properties(type_of(new)) if p}
        reasons = []
        for key, value in sorted(properties_of(new).items()):
            if key in create_only or key in NOT_MOVING_PROPERTIES:
                continue
            change = self.upstream(path, value)
            if change is not None and change.moves:
                reasons.append(f"moves: {key} changes because {explain(change.links, path)}")
        return reasons

    def _engine(self, path: str, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
        """A new engine or major engine version, which no rollback takes back."""
        if type_of(new) not in ENGINE_TYPES:
            return []
        keys = ("Engine", "EngineVersion")
        before = {
            k: concrete(properties_of(old).get(k), lambda n: self.old_value(path, n)) for k in keys
        }
        after = {
            k: concrete(properties_of(new).get(k), lambda n: self.new_value(path, n)) for k in keys
        }
        reason = engine_reason(before, after)
        return [reason] if reason else []


def _views(
    deployed: dict[str, DeployedStack], new: dict[str, dict[str, Any]], *, substitute: bool
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Both sides as their environment reads them (see predict_tree)."""
    old = {path: stack.template for path, stack in deployed.items()}
    return resolve_tree(old, substitute=substitute), resolve_tree(new, substitute=substitute)


def predict_tree(
    stack_name: str, deployed: dict[str, DeployedStack], new: dict[str, dict[str, Any]]
) -> list[Finding]:
    """Offline, for a whole nested tree: `predict` per stack plus what follows values across it.

    Both sides are first read as their environment runs them: conditions decided with the
    literals each root passes its children (child templates are shared by every environment),
    so a resource a condition leaves out counts as absent and an Fn::If is its chosen branch.
    Parameters stay Refs there, for Resolution to follow and name. A create-only property
    whose text changes counts only if its value changes too: a literal that moved into a
    parameter the root passes with the same value is no change."""
    old, new = _views(deployed, new, substitute=False)
    old_values, new_values = _views(deployed, new, substitute=True)
    deployed = {path: replace(stack, template=old[path]) for path, stack in deployed.items()}
    resolution = Resolution(deployed, new, (old_values, new_values))
    found: list[Finding] = []
    for path, stack in sorted(deployed.items()):
        shown = f"{stack_name}/{path}" if path else stack_name
        valued = predict(shown, old_values[path], new_values.get(path))
        found += [f for f in predict(shown, stack.template, new.get(path)) if f in valued]
        if path in new:
            found += resolution.findings(path, shown)
    return merge(found)
