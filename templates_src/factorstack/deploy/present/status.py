"""`factorstack status` for people (a few lines and a rich table) and for machines (JSON)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

from rich.table import Table

from factorstack.deploy.decide.status import EnvironmentStatus, ServiceStatus, status_json

HEADERS = ["Process", "Tasks", "Rollout", "Image", "Scaling", "Alarms"]
ROLLOUT_STYLES = {"COMPLETED": "green", "IN_PROGRESS": "yellow", "FAILED": "bold red"}
SHORT_DIGEST = len("sha256:") + 12


def when(text: str | None) -> str:
    """An API timestamp (ISO text) as `2026-11-26 12:00:05 UTC`."""
    if not text:
        return "never"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def short_image(image: str | None) -> str:
    """Without the registry host, and a digest cut to 12 hex digits."""
    if not image:
        return "-"
    first, _, rest = image.partition("/")
    if rest and ("." in first or ":" in first):
        image = rest
    name, at, digest = image.partition("@")
    return f"{name}@{digest[:SHORT_DIGEST]}" if at else image


def tasks_cell(row: ServiceStatus) -> str:
    service = row.service
    if service is None:
        return "not found in ECS"
    cell = f"{service.running}/{service.desired} running"
    return cell + (f", {service.pending} pending" if service.pending else "")


def rollout_cell(row: ServiceStatus) -> str:
    service = row.service
    if service is None or not service.rollout_state:
        return "-"
    if service.rollout_state == "FAILED" and service.rollout_reason:
        return f"FAILED: {service.rollout_reason}"
    return service.rollout_state


def alarms_cell(row: ServiceStatus) -> str:
    """`3 OK`, or the alarms that fire by name and the count of the rest."""
    if not row.alarms:
        return "-"
    firing = [alarm.name for alarm in row.alarms if alarm.state == "ALARM"]
    counts = Counter(alarm.state for alarm in row.alarms if alarm.state != "ALARM")
    parts = [f"ALARM: {name}" for name in firing]
    parts += [f"{count} {state}" for state, count in sorted(counts.items())]
    return ", ".join(parts)


def scaling_cell(row: ServiceStatus) -> str:
    return f"{row.scaling.min_tasks}-{row.scaling.max_tasks}" if row.scaling else "-"


def header_lines(status: EnvironmentStatus) -> list[str]:
    deployed = status.deployed
    stack = deployed.stack
    return [
        f"{stack.name} ({deployed.environment}): {stack.status}, "
        f"last updated {when(status.last_updated)}",
        f"release {deployed.image_tag or '-'}, url {deployed.url or '-'}",
    ]


def status_table(status: EnvironmentStatus) -> Table:
    table = Table(title=f"Services of {status.deployed.stack.name}")
    for header in HEADERS:
        table.add_column(header, overflow="fold")
    for row in status.services:
        rollout = row.service.rollout_state if row.service else None
        table.add_row(
            row.process,
            tasks_cell(row),
            rollout_cell(row),
            short_image(row.image),
            scaling_cell(row),
            alarms_cell(row),
            style=ROLLOUT_STYLES.get(rollout or ""),
        )
    return table


def status_json_text(status: EnvironmentStatus) -> str:
    return json.dumps(status_json(status), indent=2) + "\n"
