"""What running it bills by the month: secrets, KMS keys, log groups, alarms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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


def _only_functions_write(group: Found, tree: Tree) -> bool:
    """Whether the group is a Lambda function's own (its LoggingConfig names it): such a
    function runs per deploy or per rotation, not all month like a service or flow logs."""
    return any(
        _logs_to(function, group, tree)
        for function in tree.resources()
        if function.path == group.path and function.type == "AWS::Lambda::Function"
    ) and not _named_elsewhere(group, tree)


def _logs_to(function: Found, group: Found, tree: Tree) -> bool:
    config = function.properties.get("LoggingConfig")
    if not isinstance(config, Mapping):
        return False
    named = tree.referenced(function, config.get("LogGroup"))
    return named is not None and named.logical == group.logical


def _named_elsewhere(group: Found, tree: Tree) -> bool:
    """Whether anything but a Lambda function refers to the group (a task's awslogs driver,
    flow logs): then it is written as much as the other groups."""
    reference = {"Ref": group.logical}
    return any(
        other.path == group.path
        and other.type != "AWS::Lambda::Function"
        and other.logical != group.logical
        and _mentions(other.properties, reference)
        for other in tree.resources()
    )


def _mentions(value: object, reference: Mapping[str, str]) -> bool:
    if value == reference:
        return True
    if isinstance(value, Mapping):
        return any(_mentions(item, reference) for item in value.values())
    if isinstance(value, list):
        return any(_mentions(item, reference) for item in value)
    return False


@billed("AWS::Logs::LogGroup")
def log_group(found: Found, tree: Tree, assumptions: Assumptions) -> list[Usage]:
    """Ingestion as assumed, and what that leaves stored once the retention window is full."""
    days = as_int(found.properties.get("RetentionInDays"), NEVER_EXPIRES_DAYS)
    ingested = assumptions.log_gb_per_group
    if _only_functions_write(found, tree):
        ingested = assumptions.log_gb_per_function_group
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
