"""One environment's view of shared child templates: parameters replaced by the literals the
root passes, conditions evaluated, `Fn::If` branches chosen, `AWS::NoValue` dropped.

Children are the same text in every environment (stacks/wiring.py `setting`); the checks that
judge values (the policy gate, the cost estimate, tests, the offline guard) read them through
this view, so moving a value into a parameter hides nothing from them. Values the root wires
from another stack's output stay as they are: only literals are known before a deploy.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from typing import Any

STACK_TYPE = "AWS::CloudFormation::Stack"
NO_VALUE = "AWS::NoValue"
ROOT_FILE = "root.json"
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_.:]+)\}")
_REMOVED: Any = object()
_UNHANDLED: Any = object()
UNKNOWN: Any = object()


def setting_defaults(template: Mapping[str, Any]) -> dict[str, str]:
    """A root's parameters that hold an environment setting, with the value deploy passes (the
    Default: deletion protection, the cache's nodes and failover). Not the image tag, which has
    none, nor an SSM-typed parameter, whose Default is a name to look up."""
    declared = template.get("Parameters") or {}
    return {
        name: _text(spec["Default"])
        for name, spec in declared.items()
        if isinstance(spec, Mapping)
        and "Default" in spec
        and spec.get("Type") in ("String", "Number")
    }


def literal_parameters(
    resource: Mapping[str, Any], defaults: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The parameters a nested-stack resource passes as literals (not wired from an output),
    and those it passes from a root setting (`defaults`, setting_defaults of its parent)."""
    passed = (resource.get("Properties") or {}).get("Parameters") or {}
    values = {k: str(v) for k, v in passed.items() if isinstance(v, str | int | float | bool)}
    for key, value in passed.items():
        if (
            isinstance(value, Mapping)
            and set(value) == {"Ref"}
            and value["Ref"] in (defaults or {})
        ):
            values[key] = (defaults or {})[value["Ref"]]
    return values


def typed(template: Mapping[str, Any], values: Mapping[str, str]) -> dict[str, Any]:
    """Each known value as the property it feeds would read it: a Number parameter as a
    number, a true/false parameter as a bool, anything else as its string."""
    declared = template.get("Parameters") or {}
    out: dict[str, Any] = {}
    for name, value in values.items():
        spec = declared.get(name)
        if spec is None:
            continue
        if spec.get("Type") == "Number":
            number = float(value)
            out[name] = int(number) if number.is_integer() else number
        elif sorted(spec.get("AllowedValues") or []) == ["false", "true"]:
            out[name] = value == "true"
        else:
            out[name] = value
    return out


def resolve(
    template: Mapping[str, Any], values: Mapping[str, str], *, substitute: bool = True
) -> dict[str, Any]:
    """A copy of `template` as it reads with `values` for its parameters (the others stay).
    With `substitute` False only the conditions are decided (resources, outputs, Fn::If and
    AWS::NoValue): the Refs stay, for a reader that follows parameters itself."""
    known = typed(template, values)
    # Where CloudFormation reads a value as text (Fn::Equals, Fn::Sub), it reads what was
    # passed: "10.0" stays "10.0" even though the property gets the number 10.
    texts = {name: values[name] for name in known}
    resolved: dict[str, Any] = copy.deepcopy(dict(template))
    conditions = _conditions(resolved.get("Conditions") or {}, texts)
    walker = _Walker(known if substitute else {}, conditions, texts)
    for section in ("Resources", "Outputs"):
        entries = resolved.get(section)
        if isinstance(entries, dict):
            resolved[section] = _entries(entries, conditions, walker)
    if substitute:
        _drop_known(resolved, "Parameters", set(known))
    _drop_known(resolved, "Conditions", {k for k, v in conditions.items() if v is not None})
    return resolved


def _entries(
    entries: dict[str, Any], conditions: Mapping[str, bool | None], walker: _Walker
) -> dict[str, Any]:
    """Resources or outputs: those whose condition is false dropped, a true one's mark removed."""
    kept: dict[str, Any] = {}
    for name, body in entries.items():
        named = body.get("Condition") if isinstance(body, dict) else None
        state = conditions.get(named) if isinstance(named, str) else None
        if state is False:
            continue
        if state is True:
            body = {k: v for k, v in body.items() if k != "Condition"}
        kept[name] = walker.walk(body)
    return kept


def _drop_known(template: dict[str, Any], section: str, names: set[str]) -> None:
    entries = template.get(section)
    if not isinstance(entries, dict):
        return
    left = {k: v for k, v in entries.items() if k not in names}
    if left:
        template[section] = left
    else:
        del template[section]


def resolve_set(templates: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every template of one environment, each child read with the literals its root passes."""
    root = templates.get(ROOT_FILE)
    defaults = setting_defaults(root or {})
    values: dict[str, dict[str, str]] = {}
    for resource in ((root or {}).get("Resources") or {}).values():
        url = (resource.get("Properties") or {}).get("TemplateURL")
        if resource.get("Type") == STACK_TYPE and isinstance(url, str):
            values[url] = literal_parameters(resource, defaults)
    return {
        name: resolve(body, values[name]) if name in values else copy.deepcopy(dict(body))
        for name, body in templates.items()
    }


def _conditions(declared: Mapping[str, Any], known: Mapping[str, str]) -> dict[str, bool | None]:
    """Each condition's value, or None when it depends on something only a deploy knows."""
    states: dict[str, bool | None] = {}

    def state(name: str, seen: frozenset[str] = frozenset()) -> bool | None:
        if name in states:
            return states[name]
        if name in seen or name not in declared:
            return None
        value = _evaluate(declared[name], known, lambda other: state(other, seen | {name}))
        states[name] = value
        return value

    for name in declared:
        state(name)
    return states


def _evaluate(
    expression: Any, known: Mapping[str, str], condition: Callable[[str], bool | None]
) -> bool | None:
    if not isinstance(expression, dict) or len(expression) != 1:
        return None
    ((function, argument),) = expression.items()
    if function == "Condition":
        return condition(argument)
    if function == "Fn::Equals" and isinstance(argument, list) and len(argument) == 2:
        left, right = (_scalar(side, known) for side in argument)
        if left is UNKNOWN or right is UNKNOWN:
            return None
        return _text(left) == _text(right)
    parts = [_evaluate(part, known, condition) for part in (argument or [])]
    if function == "Fn::Not" and len(parts) == 1:
        return None if parts[0] is None else not parts[0]
    if function == "Fn::And":
        return False if False in parts else (None if None in parts else True)
    if function == "Fn::Or":
        return True if True in parts else (None if None in parts else False)
    return None


def _scalar(value: Any, known: Mapping[str, str]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in known:
            return known[value["Ref"]]
        return UNKNOWN
    return value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _pick(function: str, argument: Any) -> Any:
    """`Fn::Split` of a known text, `Fn::Select` from a known list (one setting holding a
    value per process); anything still unknown stays the call it was."""
    if function == "Fn::Split" and isinstance(argument, list) and len(argument) == 2:
        delimiter, text = argument
        if isinstance(delimiter, str) and isinstance(text, str):
            return text.split(delimiter)
    if function == "Fn::Select" and isinstance(argument, list) and len(argument) == 2:
        index, items = argument
        known = isinstance(items, list) and not any(isinstance(i, dict | list) for i in items)
        if known and str(index).isdigit() and int(index) < len(items):
            return items[int(index)]
    return {function: argument}


class _Walker:
    def __init__(
        self,
        known: Mapping[str, Any],
        conditions: Mapping[str, bool | None],
        texts: Mapping[str, str],
    ) -> None:
        self.known = known
        self.conditions = conditions
        self.texts = texts  # the same values as passed, for Fn::Sub

    def walk(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.walk(item) for item in value]
            return [item for item in items if item is not _REMOVED]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            handled = self._function(key, argument, value)
            if handled is not _UNHANDLED:
                return handled
        walked = {k: self.walk(v) for k, v in value.items()}
        return {k: v for k, v in walked.items() if v is not _REMOVED}

    def _function(self, key: str, argument: Any, value: dict[str, Any]) -> Any:
        """Ref, Fn::If and Fn::Sub where the known values decide them; else _UNHANDLED."""
        if key == "Ref":
            if argument == NO_VALUE:
                return _REMOVED
            return self.known.get(argument, value) if isinstance(argument, str) else value
        if key == "Fn::If" and isinstance(argument, list) and len(argument) == 3:
            state = self.conditions.get(argument[0])
            if state is not None:
                return self.walk(argument[1] if state else argument[2])
        if key == "Fn::Sub":
            return self._sub(argument)
        if key in ("Fn::Split", "Fn::Select"):
            return _pick(key, self.walk(argument))
        return _UNHANDLED

    def _sub(self, argument: Any) -> Any:
        if isinstance(argument, str):
            text, variables = argument, {}
        elif isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str):
            text, variables = argument[0], {k: self.walk(v) for k, v in argument[1].items()}
        else:
            return {"Fn::Sub": self.walk(argument)}
        literal = {k: v for k, v in variables.items() if not isinstance(v, dict | list)}
        open_variables = {k: v for k, v in variables.items() if k not in literal}

        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in literal:
                return _text(literal[name])
            if name not in variables and name in self.known:
                return self.texts[name]
            return match.group(0)

        text = _PLACEHOLDER.sub(fill, text)
        if open_variables:
            return {"Fn::Sub": [text, open_variables]}
        if _PLACEHOLDER.search(text.replace("${!", "")):
            return {"Fn::Sub": text}
        return text.replace("${!", "${")


def resolve_tree(
    tree: Mapping[str, Mapping[str, Any]], *, substitute: bool = True
) -> dict[str, dict[str, Any]]:
    """A nested tree keyed by stack path ("" the root, "WebStack", "A/B"), each stack read with
    the literals its parent passes: the same view for a build and for a deployed tree, whose
    root template holds the values it was deployed with."""
    resolved: dict[str, dict[str, Any]] = {}
    for path in sorted(tree, key=lambda p: (p.count("/") + bool(p), p)):
        parent_path, _, logical_id = path.rpartition("/")
        parent = resolved.get(parent_path) if path else None
        resource = ((parent or {}).get("Resources") or {}).get(logical_id)
        if isinstance(resource, dict) and resource.get("Type") == STACK_TYPE:
            defaults = setting_defaults(tree[parent_path]) if parent_path == "" else None
            values = literal_parameters(resource, defaults)
            resolved[path] = resolve(tree[path], values, substitute=substitute)
        else:
            resolved[path] = copy.deepcopy(dict(tree[path]))
    return resolved
