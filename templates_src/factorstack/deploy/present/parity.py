"""Parity for people and machines: `factorstack parity`'s report and JSON, and the short
section a plan's review shows (terminal, changeset.md and so the CI job summary, plan.json).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from factorstack.build.parity import (
    DIFFERS,
    IDENTICAL,
    NAMES_ONLY,
    ONE_SIDE,
    Parity,
    summary_counts,
)

SHORT_HASH = 12
# The plan's review lists at most this many differing values; the rest is `and N more`.
PLAN_LINES = 12
STATUS_WORDS = {
    IDENTICAL: "identical",
    NAMES_ONLY: "same but for names",
    DIFFERS: "differ",
    ONE_SIDE: "on one side only",
}


def _short(sha: str | None) -> str:
    return sha[:SHORT_HASH] if sha else "-"


def headline(parity: Parity) -> str:
    """`13 templates: 5 identical, 7 differ, 1 on one side only`."""
    counts = ", ".join(f"{n} {STATUS_WORDS[status]}" for status, n in summary_counts(parity))
    return f"{len(parity.templates)} templates: {counts or 'none built'}"


def normalised_line(parity: Parity) -> str | None:
    """The one sentence saying which names were normalised, or None when none differ."""
    if not parity.normalised:
        return None
    names = ", ".join(f"{n.kind} {n.left}/{n.right}" for n in parity.normalised)
    folded = f" ({parity.folded} values differed only by these, not listed)"
    return f"normalised before comparing: {names}{folded if parity.folded else ''}"


def notes_line(parity: Parity) -> str | None:
    """How many resources differ only in their lint justifications, or None."""
    if not parity.notes:
        return None
    return (
        f"{parity.notes} resources differ in lint justifications (Metadata guard/checkov/"
        "cfn-lint) too, not listed: they change nothing AWS does"
    )


def value_lines(parity: Parity) -> list[str]:
    """Every differing value, then everything one side has and the other has not."""
    return [d.line() for d in parity.differences] + [o.line() for o in parity.one_sided]


def _template_status(status: str, only_in: str | None) -> str:
    return f"only in {only_in}" if status == ONE_SIDE and only_in else status


def _only_in(parity: Parity, left: str | None) -> str | None:
    if left is None:
        return parity.right
    return parity.left


def report_lines(parity: Parity) -> list[str]:
    """`factorstack parity LEFT RIGHT` for the terminal."""
    width = max([len("template"), *(len(p.file) for p in parity.templates)])
    lines = [
        f"parity {parity.left} → {parity.right} (build/{parity.left} and build/{parity.right}; "
        "nothing read from AWS)",
        f"{'template':<{width}}  {parity.left:<{SHORT_HASH}}  {parity.right}",
    ]
    for pair in parity.templates:
        only = _only_in(parity, pair.left) if pair.status == ONE_SIDE else None
        lines.append(
            f"{pair.file:<{width}}  {_short(pair.left):<{SHORT_HASH}}  "
            f"{_short(pair.right):<{SHORT_HASH}}  {_template_status(pair.status, only)}"
        )
    lines.append(headline(parity))
    lines += [line for line in (normalised_line(parity), notes_line(parity)) if line]
    values = value_lines(parity)
    if values:
        lines += ["", f"what differs ({parity.left} → {parity.right}):", *values]
    return lines


def as_json(parity: Parity) -> dict[str, Any]:
    """The comparison with stable keys, for scripts (`factorstack parity --json`)."""
    return {
        "from": parity.left,
        "to": parity.right,
        "summary": {status.replace(" ", "_"): parity.count(status) for status in STATUS_WORDS},
        "normalised": [{"kind": n.kind, "from": n.left, "to": n.right} for n in parity.normalised],
        "folded": parity.folded,
        "lint_notes": parity.notes,
        "templates": [
            {
                "file": pair.file,
                "from_sha256": pair.left,
                "to_sha256": pair.right,
                "status": pair.status.replace(" ", "_"),
            }
            for pair in parity.templates
        ],
        "differences": [
            {"file": d.file, "path": d.path, "from": d.left_value, "to": d.right_value}
            for d in parity.differences
        ],
        "only_in": [
            {"file": o.file, "path": o.path, "environment": o.environment} for o in parity.one_sided
        ],
    }


@dataclass
class ParitySection:
    """What a plan's review shows about its predecessor: a capped summary, or a note."""

    left: str
    right: str
    headline: str
    lines: list[str] = field(default_factory=list)
    more: int = 0
    note: str | None = None  # e.g. the predecessor was never built: said, never a failure

    @property
    def title(self) -> str:
        return f"parity {self.left} → {self.right}"

    def terminal_lines(self) -> list[str]:
        lines = [f"{self.title}: {self.note or self.headline}"]
        lines += [f"  {line}" for line in self.lines]
        if self.more:
            lines.append(f"  {self._more()}")
        return lines

    def markdown_lines(self) -> list[str]:
        lines = ["", f"### Parity `{self.left}` → `{self.right}`", "", self.note or self.headline]
        if self.lines:
            lines += ["", *(f"- `{line}`" for line in self.lines)]
        if self.more:
            lines += [f"- {self._more()}"]
        return lines

    def as_json(self) -> dict[str, Any]:
        return {
            "from": self.left,
            "to": self.right,
            "summary": self.headline,
            "lines": self.lines,
            "more": self.more,
            "note": self.note,
        }

    def _more(self) -> str:
        return f"and {self.more} more (`factorstack parity {self.left} {self.right}`)"


def plan_section(parity: Parity, cap: int = PLAN_LINES) -> ParitySection:
    """The plan's parity section: the headline and the first `cap` differing values."""
    values = value_lines(parity)
    note = normalised_line(parity)
    headline_text = headline(parity) + (f"; {note}" if note else "")
    return ParitySection(
        parity.left, parity.right, headline_text, values[:cap], max(0, len(values) - cap)
    )


def missing_section(left: str, right: str, reason: str) -> ParitySection:
    """The section when the predecessor cannot be compared: one line, the plan goes on."""
    return ParitySection(left, right, "", note=f"not compared: {reason}")
