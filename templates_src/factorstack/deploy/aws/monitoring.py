"""CloudWatch alarms and Application Auto Scaling targets of the services (`factorstack
status`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Literal

from factorstack.deploy.aws.session import Clients, aws_errors
from factorstack.deploy.decide.status import AlarmState, ScalingBounds

DESCRIBE_ALARMS_MAX = 100  # AlarmNames per DescribeAlarms call
SCALABLE_TARGETS_MAX = 50  # ResourceIds per DescribeScalableTargets call
ECS_DESIRED_COUNT: Final[Literal["ecs:service:DesiredCount"]] = "ecs:service:DesiredCount"


def service_resource_id(cluster: str, service: str) -> str:
    """Application Auto Scaling's id of an ECS service."""
    return f"service/{cluster}/{service}"


class MonitorCalls:
    """The gateway's calls to CloudWatch and Application Auto Scaling."""

    clients: Clients

    def alarm_states(self, names: Sequence[str]) -> dict[str, AlarmState]:
        """Alarm name → its state, for those of `names` that exist."""
        found: dict[str, AlarmState] = {}
        pages = self.clients.cloudwatch.get_paginator("describe_alarms")
        with aws_errors("reading the services' alarms (cloudwatch describe-alarms)"):
            for start in range(0, len(names), DESCRIBE_ALARMS_MAX):
                chunk = list(names[start : start + DESCRIBE_ALARMS_MAX])
                for page in pages.paginate(
                    AlarmNames=chunk, AlarmTypes=["MetricAlarm", "CompositeAlarm"]
                ):
                    raws = [*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])]
                    for raw in raws:
                        name = str(raw.get("AlarmName", ""))
                        found[name] = AlarmState(
                            name=name,
                            state=str(raw.get("StateValue", "")),
                            reason=" ".join(str(raw.get("StateReason", "")).split()),
                        )
        return found

    def scaling_bounds(self, cluster: str, services: Sequence[str]) -> dict[str, ScalingBounds]:
        """Service name → its scalable target's bounds, for the services that have one."""
        by_id = {service_resource_id(cluster, name): name for name in services}
        ids = list(by_id)
        found: dict[str, ScalingBounds] = {}
        pages = self.clients.application_autoscaling.get_paginator("describe_scalable_targets")
        doing = "reading the services' scaling bounds (application-autoscaling)"
        with aws_errors(doing):
            for start in range(0, len(ids), SCALABLE_TARGETS_MAX):
                chunk = ids[start : start + SCALABLE_TARGETS_MAX]
                for page in pages.paginate(
                    ServiceNamespace="ecs", ResourceIds=chunk, ScalableDimension=ECS_DESIRED_COUNT
                ):
                    for raw in page.get("ScalableTargets") or []:
                        name = by_id.get(raw["ResourceId"])
                        if name is not None:
                            found[name] = ScalingBounds(raw["MinCapacity"], raw["MaxCapacity"])
        return found
