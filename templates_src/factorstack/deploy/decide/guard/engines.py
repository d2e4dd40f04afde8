"""Engine changes no rollback undoes: another engine, or another major version."""

from __future__ import annotations

import re

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


def major_version(engine: str, version: str) -> tuple[int, ...] | None:
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
    before = major_version(engine, old["EngineVersion"] or "")
    after = major_version(engine, new["EngineVersion"] or "")
    if before is None or after is None or before == after:
        return None
    shown = f"{'.'.join(map(str, before))} → {'.'.join(map(str, after))}"
    if after < before:
        return f"major version downgrade {shown} (not possible in place)"
    return f"major version upgrade {shown} {advice}"
