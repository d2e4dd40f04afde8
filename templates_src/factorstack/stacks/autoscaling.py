"""Autoscaling stack: every scaled process tracks 75 % CPU and 75 % memory between its
environment's minimum and maximum task counts. A singleton (the scheduler) is never scaled.
"""

from __future__ import annotations

from collections.abc import Mapping

from troposphere import Ref, Sub, Template
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


def _scale(template: Template, process: Process, cluster: Ref, service: Ref) -> None:
    target = template.add_resource(
        scaling.ScalableTarget(
            f"{process.logical}ScalableTarget",
            ServiceNamespace="ecs",
            ScalableDimension="ecs:service:DesiredCount",
            ResourceId=Sub("service/${Cluster}/${Service}", Cluster=cluster, Service=service),
            MinCapacity=process.min_tasks,
            MaxCapacity=process.max_tasks,
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
        "AutoscalingStack", "autoscaling.json", f"{model.app} {model.environment}: task autoscaling"
    )
    cluster_name = Ref(child.take(cluster.cluster_name, "ECS cluster."))
    for process in model.scaled_processes:
        service_name = services[process.name].service_name
        service = child.take(
            service_name,
            f"ECS service of {process.name}.",
            name=service_name.prefixed(process.logical),
        )
        _scale(child.template, process, cluster_name, Ref(service))
    return child.built(None)
