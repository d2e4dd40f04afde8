"""The guard's findings and verdict: one finding per stateful resource with every reason,
split by --allow-replace into those let through and those that refuse the plan (exit 3).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from factorstack.deploy.decide.review import Row
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
    unused: tuple[str, ...] = ()  # --allow-replace ids no finding has (a typo, or nothing at risk)

    def allowed_lines(self) -> list[str]:
        return [f"allowed by --allow-replace: {f.line()}" for f in self.allowed]

    def unused_lines(self) -> list[str]:
        return [
            f"warning: --allow-replace {logical_id}: nothing of that id is removed or replaced "
            "in this change set (check its spelling)"
            for logical_id in self.unused
        ]


def judge(findings: Iterable[Finding], allowed: Iterable[str]) -> Verdict:
    """Which findings --allow-replace lets through and which block the change set."""
    allow = set(allowed)
    found = list(findings)
    return Verdict(
        findings=found,
        allowed=[f for f in found if f.logical_id in allow],
        blocked=[f for f in found if f.logical_id not in allow],
        unused=tuple(sorted(allow - {f.logical_id for f in found})),
    )


def enforce(verdict: Verdict, echo: Callable[[str], None]) -> list[str]:
    """Refuse (exit 3) when a finding is blocked; return the lines of the allowed ones."""
    for warning in verdict.unused_lines():
        echo(warning)
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
