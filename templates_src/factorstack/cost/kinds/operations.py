"""What running it bills by the month: secrets, KMS keys, log groups, alarms."""

from __future__ import annotations

from collections.abc import Sequence

from factorstack.cost.kinds.registry import billed
from factorstack.cost.tree import Found, Tree, as_int
from factorstack.cost.usage import NEVER_EXPIRES_DAYS, Assumptions, Usage

DAYS_PER_MONTH = 30


@billed("AWS::SecretsManager::Secret")
def secret(found: Found, tree: Tree, assumptions: Assumptions) -> list[Usage]:
    return [Usage(found.logical, "secret", "secret-months", "secrets.month", 1, "secret-month")]


@billed("AWS::KMS::Key")
def kms_key(found: Found, tree: Tree, assumptions: Assumptions) -> list[Usage]:
    return [Usage(found.logical, "KMS key", "key-months", "kms.key_month", 1, "key-month")]


@billed("AWS::Logs::LogGroup")
def log_group(found: Found, tree: Tree, assumptions: Assumptions) -> list[Usage]:
    """Ingestion as assumed, and what that leaves stored once the retention window is full."""
    days = as_int(found.properties.get("RetentionInDays"), NEVER_EXPIRES_DAYS)
    ingested = assumptions.log_gb_per_group
    stored = ingested * min(days, NEVER_EXPIRES_DAYS) / DAYS_PER_MONTH
    facts = (("retention", f"{days} days"),)
    return [
        Usage(found.logical, "log group", "GB ingested (assumed)", "logs.ingest_gb", ingested,
              "GB", facts=facts),
        Usage(found.logical, "log group", f"GB stored ({days}-day retention)",
              "logs.store_gb_month", stored, "GB-month", facts=facts),
    ]  # fmt: skip


@billed("AWS::CloudWatch::Alarm")
def alarm(found: Found, tree: Tree, assumptions: Assumptions) -> list[Usage]:
    """An alarm on metric math bills each metric it reads; a plain alarm reads one."""
    metrics = found.properties.get("Metrics")
    count = 1
    if isinstance(metrics, Sequence) and metrics:
        count = sum(1 for m in metrics if isinstance(m, dict) and "MetricStat" in m) or 1
    return [
        Usage(found.logical, "alarm", f"alarm metrics ({count})", "cloudwatch.alarm_metric_month",
              count, "metric-month"),
    ]  # fmt: skip
