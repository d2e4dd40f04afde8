"""The decision: each finding is justified on its resource or fails the gate; and the words.

Pure functions over the checkers' reports and the templates' justifications, so tests feed them
recorded output without running a checker.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from tools.policy.findings import Finding, Report
from tools.policy.templates import Justification, Justifications, Refusal


@dataclass(frozen=True)
class Outcome:
    """One checker's verdict: passes, findings its resource justifies, findings that fail, and
    justifications no finding needed (an environment where the rule holds, or a stale one)."""

    checker: str
    passed: int
    justified: tuple[Justification, ...]
    failed: tuple[Finding, ...]
    unused: tuple[Justification, ...]


def judge(report: Report, justifications: Iterable[Justification]) -> Outcome:
    mine = {(j.place, j.rule): j for j in justifications if j.checker == report.checker}
    justified = [mine[f.place, f.rule] for f in report.findings if (f.place, f.rule) in mine]
    failed = [f for f in report.findings if (f.place, f.rule) not in mine]
    used = {(j.place, j.rule) for j in justified}
    unused = [j for key, j in mine.items() if key not in used]
    return Outcome(
        report.checker, report.passed, tuple(justified), tuple(failed), tuple(sorted(unused))
    )


def passes(outcomes: Iterable[Outcome], justifications: Justifications) -> bool:
    """No unjustified finding and no justification that fails to say why."""
    return not justifications.refused and not any(o.failed for o in outcomes)


def finding_line(finding: Finding) -> str:
    return f"{finding.checker} {finding.place} {finding.rule} {finding.title}"


def refusal_line(refusal: Refusal) -> str:
    return f"{refusal.checker} {refusal.place} refused: {refusal.problem}"


def grouped(justifications: Iterable[Justification]) -> list[str]:
    """`RULE on TEMPLATE RESOURCE (envs): why`, one line for every environment alike."""
    environments: dict[tuple[str, str, str, str], list[str]] = defaultdict(list)
    for j in justifications:
        key = (j.rule, j.place.template, j.place.resource, j.reason)
        environments[key].append(j.place.environment)
    return [
        f"{rule} on {template} {resource} ({', '.join(sorted(envs))}): {reason}"
        for (rule, template, resource, reason), envs in sorted(environments.items())
    ]


def summary(outcome: Outcome) -> list[str]:
    lines = [
        f"{outcome.checker}: {outcome.passed} passed, {len(outcome.justified)} justified, "
        f"{len(outcome.failed)} failed"
    ]
    lines += [f"  justified {line}" for line in grouped(outcome.justified)]
    lines += [f"  unused {line}" for line in grouped(outcome.unused)]
    return lines


def verdict(outcomes: list[Outcome], justifications: Justifications) -> str:
    if passes(outcomes, justifications):
        return "policy gate: passed"
    failed = sum(len(o.failed) for o in outcomes)
    return (
        f"policy gate: failed: {failed} unjustified finding(s), "
        f"{len(justifications.refused)} justification(s) refused for want of a reason"
    )


def render(outcomes: list[Outcome], justifications: Justifications) -> list[str]:
    """One line per unjustified finding and refused justification, then the counts."""
    lines = [finding_line(f) for o in outcomes for f in o.failed]
    lines += [refusal_line(r) for r in justifications.refused]
    for outcome in outcomes:
        lines += summary(outcome)
    lines.append(verdict(outcomes, justifications))
    return lines
