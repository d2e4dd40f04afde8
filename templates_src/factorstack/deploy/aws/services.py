"""ECS: the services a stack runs, their task definitions, and one-off tasks started from them
(`factorstack status` and `factorstack run`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from factorstack.deploy.aws.session import Clients, aws_errors
from factorstack.deploy.decide.services import (
    OneOff,
    Service,
    TaskDefinition,
    TaskNetwork,
    TaskState,
)
from factorstack.errors import DeployError

if TYPE_CHECKING:
    from mypy_boto3_ecs.type_defs import (
        DeploymentAlarmsOutputTypeDef,
        LogConfigurationOutputTypeDef,
        NetworkConfigurationOutputTypeDef,
        ServiceTypeDef,
        TaskTypeDef,
    )

DESCRIBE_SERVICES_MAX = 10  # services per DescribeServices call
PRIMARY = "PRIMARY"


def network_from_api(raw: NetworkConfigurationOutputTypeDef | None) -> TaskNetwork | None:
    """A service's awsvpcConfiguration, None when it has none."""
    vpc = (raw or {}).get("awsvpcConfiguration")
    if not vpc or not vpc.get("subnets"):
        return None
    return TaskNetwork(
        subnets=tuple(vpc["subnets"]),
        security_groups=tuple(vpc.get("securityGroups") or ()),
        assign_public_ip=str(vpc.get("assignPublicIp") or "DISABLED"),
    )


def service_from_api(raw: ServiceTypeDef) -> Service:
    """A Service from one describe_services entry."""
    deployments = raw.get("deployments") or []
    primary = next((d for d in deployments if d.get("status") == PRIMARY), None)
    alarms: DeploymentAlarmsOutputTypeDef | dict[str, list[str]] = (
        raw.get("deploymentConfiguration") or {}
    ).get("alarms") or {}
    return Service(
        name=str(raw.get("serviceName", "")),
        task_definition=str(raw.get("taskDefinition", "")),
        desired=int(raw.get("desiredCount", 0)),
        running=int(raw.get("runningCount", 0)),
        pending=int(raw.get("pendingCount", 0)),
        rollout_state=primary.get("rolloutState") if primary else None,
        rollout_reason=primary.get("rolloutStateReason") if primary else None,
        network=network_from_api(raw.get("networkConfiguration")),
        alarm_names=tuple(alarms.get("alarmNames") or ()),
    )


def task_from_api(raw: TaskTypeDef, container: str) -> TaskState:
    """A TaskState from one describe_tasks entry; the exit code is `container`'s."""
    ran = next((c for c in raw.get("containers") or [] if c.get("name") == container), None)
    code = ran.get("exitCode") if ran else None
    return TaskState(
        arn=str(raw.get("taskArn", "")),
        last_status=str(raw.get("lastStatus", "")),
        stopped_reason=raw.get("stoppedReason"),
        exit_code=None if code is None else int(code),
        container_reason=ran.get("reason") if ran else None,
    )


def awslogs_options(raw: LogConfigurationOutputTypeDef | None) -> dict[str, str]:
    """The awslogs driver's options (group, stream prefix); none for another driver."""
    if not raw or raw.get("logDriver") != "awslogs":
        return {}
    return dict(raw.get("options") or {})


class ServiceCalls:
    """The gateway's calls to ECS."""

    clients: Clients

    def services(self, cluster: str, names: Sequence[str]) -> dict[str, Service]:
        """Service name → Service, for those of `names` that exist in the cluster."""
        found: dict[str, Service] = {}
        with aws_errors(f"describing the ECS services of cluster {cluster}"):
            for start in range(0, len(names), DESCRIBE_SERVICES_MAX):
                chunk = list(names[start : start + DESCRIBE_SERVICES_MAX])
                answer = self.clients.ecs.describe_services(cluster=cluster, services=chunk)
                for raw in answer.get("services") or []:
                    service = service_from_api(raw)
                    found[service.name] = service
        return found

    def task_definition(self, arn: str, container_name: str = "") -> TaskDefinition:
        """The container named `container_name` (else the first) of a task definition: its
        image and awslogs group and prefix."""
        with aws_errors(f"describing task definition {arn}"):
            raw = self.clients.ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
        containers = raw.get("containerDefinitions") or [{}]
        named = (c for c in containers if c.get("name") == container_name)
        container = next(named, containers[0])
        options = awslogs_options(container.get("logConfiguration"))
        return TaskDefinition(
            arn=str(raw.get("taskDefinitionArn", arn)),
            container=str(container.get("name", "")),
            image=str(container.get("image", "")),
            log_group=options.get("awslogs-group"),
            stream_prefix=options.get("awslogs-stream-prefix"),
        )

    def run_task(self, request: OneOff) -> str:
        """Start the one-off task on Fargate; its ARN."""
        vpc = request.network
        with aws_errors(f"starting a task of {request.task_definition}"):
            answer = self.clients.ecs.run_task(
                cluster=request.cluster,
                taskDefinition=request.task_definition,
                launchType="FARGATE",
                count=1,
                startedBy=request.started_by,
                networkConfiguration={
                    "awsvpcConfiguration": {
                        "subnets": list(vpc.subnets),
                        "securityGroups": list(vpc.security_groups),
                        "assignPublicIp": "ENABLED"
                        if vpc.assign_public_ip == "ENABLED"
                        else "DISABLED",
                    }
                },
                overrides={
                    "containerOverrides": [
                        {"name": request.container, "command": list(request.command)}
                    ]
                },
                enableECSManagedTags=True,
                propagateTags="TASK_DEFINITION",
            )
        tasks = answer.get("tasks") or []
        if not tasks:
            failures = answer.get("failures") or [{}]
            reasons = "; ".join(
                " ".join(str(f.get(k, "")) for k in ("reason", "detail")).strip() or "no reason"
                for f in failures
            )
            raise DeployError(f"ECS started no task of {request.task_definition}: {reasons}")
        return str(tasks[0]["taskArn"])

    def task(self, cluster: str, task_arn: str, container: str) -> TaskState | None:
        """The task as it is now, None when ECS no longer knows it."""
        with aws_errors(f"watching task {task_arn}"):
            answer = self.clients.ecs.describe_tasks(cluster=cluster, tasks=[task_arn])
        found = answer.get("tasks") or []
        return task_from_api(found[0], container) if found else None
