"""Autoscaling stack: every scaled process tracks 75 % CPU and 75 % memory between its
environment's minimum and maximum task counts. A singleton (the scheduler) is never scaled.

The counts are settings the root passes, so the template is the same in every environment: two
comma-separated lists (`MinTasks`, `MaxTasks`), one value per scaled process in app.yaml's order,
rather than two parameters per process, which an app of 100 processes would not fit in
CloudFormation's 200 parameters (each process already takes its service's name).
"""

from __future__ import annotations

from collections.abc import Mapping

from troposphere import Parameter, Ref, Select, Split, Sub
from troposphere import applicationautoscaling as scaling

from factorstack.model import AppModel, Process
from factorstack.stacks.cluster import ClusterOutputs
from factorstack.stacks.process import ProcessOutputs
from factorstack.stacks.wiring import Built, ChildStack

TARGET_UTILIZATION_PERCENT = 75.0
SCALE_OUT_COOLDOWN_SECONDS = 60
SCALE_IN_COOLDOWN_SECONDS = 300
METRICS = {
    "Cpu": "ECSServiceAverageCPUUtilization",
    "Memory": "ECSServiceAverageMemoryUtilization",
}


def _bounds(child: ChildStack, processes: list[Process]) -> tuple[Parameter, Parameter]:
    """The environment's task counts, one list per bound, in the order of `processes`."""
    names = ", ".join(p.name for p in processes)

    def setting(bound: str, counts: list[int]) -> Parameter:
        return child.setting(
            f"{bound}Tasks",
            ",".join(str(count) for count in counts),
            f"{bound}imum task counts (environment file), comma-separated, in order: {names}.",
        )

    return (
        setting("Min", [p.min_tasks for p in processes]),
        setting("Max", [p.max_tasks for p in processes]),
    )


def _count(bounds: Parameter, index: int) -> Select:
    return Select(index, Split(",", Ref(bounds)))


def _scale(
    child: ChildStack,
    process: Process,
    bounds: tuple[tuple[Parameter, Parameter], int],
    cluster: Ref,
    service: Ref,
) -> None:
    template = child.template
    (low, high), index = bounds
    target = template.add_resource(
        scaling.ScalableTarget(
            f"{process.logical}ScalableTarget",
            ServiceNamespace="ecs",
            ScalableDimension="ecs:service:DesiredCount",
            ResourceId=Sub("service/${Cluster}/${Service}", Cluster=cluster, Service=service),
            MinCapacity=_count(low, index),
            MaxCapacity=_count(high, index),
        )
    )
    for measure, metric in METRICS.items():
        template.add_resource(
            scaling.ScalingPolicy(
                f"{process.logical}{measure}Scaling",
                PolicyName=f"{process.name}-{measure.lower()}-{int(TARGET_UTILIZATION_PERCENT)}",
                PolicyType="TargetTrackingScaling",
                ScalingTargetId=Ref(target),
                TargetTrackingScalingPolicyConfiguration=scaling.TargetTrackingScalingPolicyConfiguration(
                    TargetValue=TARGET_UTILIZATION_PERCENT,
                    ScaleOutCooldown=SCALE_OUT_COOLDOWN_SECONDS,
                    ScaleInCooldown=SCALE_IN_COOLDOWN_SECONDS,
                    PredefinedMetricSpecification=scaling.PredefinedMetricSpecification(
                        PredefinedMetricType=metric
                    ),
                ),
            )
        )


def build_autoscaling(
    model: AppModel, *, cluster: ClusterOutputs, services: Mapping[str, ProcessOutputs]
) -> Built[None]:
    """Model, the cluster and the services (by process name) in, autoscaling stack out; only
    built when some process is scaled."""
    child = ChildStack(
        "AutoscalingStack",
        "autoscaling.json",
        f"{model.app}: task autoscaling",
        environment=model.environment,
    )
    cluster_name = Ref(child.take(cluster.cluster_name, "ECS cluster."))
    bounds = _bounds(child, model.scaled_processes)
    for index, process in enumerate(model.scaled_processes):
        service_name = services[process.name].service_name
        service = child.take(
            service_name,
            f"ECS service of {process.name}.",
            name=service_name.prefixed(process.logical),
        )
        _scale(child, process, (bounds, index), cluster_name, Ref(service))
    return child.built(None)
