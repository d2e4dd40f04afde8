"""`factorstack status`: an environment's state as plain data, put together from what the root
stack, ECS, CloudWatch and Application Auto Scaling answered, and its stable JSON form.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from factorstack.deploy.decide.deployed import Deployed
from factorstack.deploy.decide.services import Service, image_digest, image_tag

JSON_VERSION = 1  # bumped only when a key changes meaning or goes away


@dataclass(frozen=True)
class AlarmState:
    """One CloudWatch alarm: OK, ALARM or INSUFFICIENT_DATA."""

    name: str
    state: str
    reason: str = ""


@dataclass(frozen=True)
class ScalingBounds:
    """An autoscaled service's bounds (a singleton has none)."""

    min_tasks: int
    max_tasks: int


@dataclass(frozen=True)
class ServiceStatus:
    process: str
    service: Service | None  # None: the root names it, ECS does not know it
    image: str | None
    alarms: tuple[AlarmState, ...]
    scaling: ScalingBounds | None


@dataclass(frozen=True)
class EnvironmentStatus:
    deployed: Deployed
    services: tuple[ServiceStatus, ...]

    @property
    def last_updated(self) -> str | None:
        """When the root stack last changed: its last update, else its creation."""
        stack = self.deployed.stack
        return stack.last_updated or stack.created


def service_statuses(
    deployed: Deployed,
    services: Mapping[str, Service],
    images: Mapping[str, str],
    alarms: Mapping[str, AlarmState],
    scaling: Mapping[str, ScalingBounds],
) -> tuple[ServiceStatus, ...]:
    """One row per deployed process, from the answers keyed by service name (images by task
    definition ARN, alarms by name); an alarm AWS did not list reads as MISSING."""
    rows = []
    for process, name in deployed.services.items():
        service = services.get(name)
        names = service.alarm_names if service else ()
        rows.append(
            ServiceStatus(
                process=process,
                service=service,
                image=images.get(service.task_definition) if service else None,
                alarms=tuple(alarms.get(n, AlarmState(n, "MISSING")) for n in names),
                scaling=scaling.get(name),
            )
        )
    return tuple(rows)


def _service_json(row: ServiceStatus) -> dict[str, Any]:
    service = row.service
    return {
        "process": row.process,
        "service": service.name if service else None,
        "desired": service.desired if service else None,
        "running": service.running if service else None,
        "pending": service.pending if service else None,
        "rollout_state": service.rollout_state if service else None,
        "rollout_reason": service.rollout_reason if service else None,
        "task_definition": service.task_definition if service else None,
        "image": row.image,
        "image_digest": image_digest(row.image) if row.image else None,
        "image_tag": image_tag(row.image) if row.image else None,
        "alarms": [{"name": a.name, "state": a.state, "reason": a.reason} for a in row.alarms],
        "scaling": (
            {"min": row.scaling.min_tasks, "max": row.scaling.max_tasks} if row.scaling else None
        ),
    }


def status_json(status: EnvironmentStatus) -> dict[str, Any]:
    """The status for machines: the same keys every time, null where there is no value."""
    deployed = status.deployed
    return {
        "version": JSON_VERSION,
        "environment": deployed.environment,
        "stack": {
            "name": deployed.stack.name,
            "status": deployed.stack.status,
            "last_updated": status.last_updated,
        },
        "url": deployed.url,
        "release": deployed.image_tag,
        "cluster": deployed.cluster,
        "services": [_service_json(row) for row in status.services],
    }
