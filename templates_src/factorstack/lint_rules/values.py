"""What a rule can know about a property value before CloudFormation resolves it.

Rules check literal values only. An `Fn::If` contributes each of its branches (either may be
deployed); `Fn::Sub` and `Fn::Join` contribute the literal text they will certainly contain, so
a bad character in that text is found even though the whole value is not known.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

PathItem = str | int
Path = list[PathItem]

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def _single_key(value: Any) -> str | None:
    if isinstance(value, dict) and len(value) == 1:
        return str(next(iter(value)))
    return None


def branches(value: Any, path: Path) -> Iterator[tuple[Any, Path]]:
    """The value, or each branch of an `Fn::If` (nested ones too); `AWS::NoValue` is nothing."""
    key = _single_key(value)
    if key == "Fn::If" and isinstance(value[key], list) and len(value[key]) == 3:
        for index in (1, 2):
            yield from branches(value[key][index], [*path, key, index])
    elif key == "Ref" and value[key] == "AWS::NoValue":
        return
    else:
        yield value, path


def items(value: Any, path: Path) -> Iterator[tuple[Any, Path]]:
    """Each element of a literal list (the list or an element may be an `Fn::If`)."""
    for candidate, candidate_path in branches(value, path):
        if isinstance(candidate, list):
            for index, item in enumerate(candidate):
                yield from branches(item, [*candidate_path, index])


def literal_int(value: Any) -> int | None:
    """An integer as CloudFormation reads it (a number or a string of digits); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


@dataclass(frozen=True)
class KnownText:
    """Literal text a string value will contain once resolved.

    `exact` means `fragments` is the whole value (one literal string); otherwise the fragments
    appear in it somewhere, and their total length is a lower bound of its length.
    """

    fragments: tuple[str, ...]
    exact: bool

    @property
    def value(self) -> str:
        return "".join(self.fragments)

    @property
    def min_length(self) -> int:
        return sum(len(fragment) for fragment in self.fragments)

    def preview(self, limit: int = 60) -> str:
        """The text for a message: quoted, `...` between fragments, long text cut short."""
        text = self.value if self.exact else " ... ".join(self.fragments)
        if len(text) > limit:
            text = f"{text[: limit - 3]}..."
        return repr(text)


def _sub_fragments(text: str) -> list[str]:
    """Literal parts of an `Fn::Sub` string; `${!Name}` is the literal text `${Name}`."""
    fragments: list[str] = []
    position = 0
    for match in _SUB_VARIABLE.finditer(text):
        if match.group(1).startswith("!"):
            continue
        fragments.append(text[position : match.start()])
        position = match.end()
    fragments.append(text[position:])
    return [fragment.replace("${!", "${") for fragment in fragments if fragment]


def _sub_text(value: Any) -> str | None:
    """The template string of an `Fn::Sub`, in its short or its [text, variables] form."""
    if _single_key(value) != "Fn::Sub":
        return None
    body = value["Fn::Sub"]
    text = body[0] if isinstance(body, list) and body else body
    return text if isinstance(text, str) else None


def sub_variables(value: Any) -> list[str]:
    """The `${...}` names of an `Fn::Sub` (empty for anything else)."""
    text = _sub_text(value)
    if text is None:
        return []
    return [name for name in _SUB_VARIABLE.findall(text) if not name.startswith("!")]


def _join_text(value: Any) -> KnownText | None:
    """An `Fn::Join`: its delimiters and the known text of its parts, somewhere in the value."""
    body = value["Fn::Join"] if _single_key(value) == "Fn::Join" else None
    if not (isinstance(body, list) and len(body) == 2 and isinstance(body[0], str)):
        return None
    delimiter, parts = body
    if not isinstance(parts, list):
        return KnownText((), exact=False)
    fragments: list[str] = []
    if len(parts) > 1 and delimiter:
        fragments.extend([delimiter] * (len(parts) - 1))
    for part in parts:
        known = known_text(part)
        if known is not None:
            fragments.extend(known.fragments)
    return KnownText(tuple(fragments), exact=False)


def known_text(value: Any) -> KnownText | None:
    """What is certain about a string value; None when nothing is (a Ref, a GetAtt, ...)."""
    if isinstance(value, str):
        return KnownText((value,), exact=True)
    text = _sub_text(value)
    if text is not None:
        return KnownText(tuple(_sub_fragments(text)), exact=False)
    return _join_text(value)


def strings(value: Any, path: Path) -> Iterator[tuple[KnownText, Path]]:
    """Known text of each branch the value may take."""
    for candidate, candidate_path in branches(value, path):
        known = known_text(candidate)
        if known is not None:
            yield known, candidate_path
