"""Autoscaling stack: every scaled process tracks 75 % CPU and 75 % memory between its
environment's minimum and maximum task counts. A singleton (the scheduler) is never scaled.
"""

from __future__ import annotations

from troposphere import Ref, Sub, Template
from troposphere import applicationautoscaling as scaling

from factorstack.model import AppModel, Process
from factorstack.stacks.common import add_parameter, new_template

TARGET_UTILIZATION_PERCENT = 75.0
SCALE_OUT_COOLDOWN_SECONDS = 60
SCALE_IN_COOLDOWN_SECONDS = 300
METRICS = {
    "Cpu": "ECSServiceAverageCPUUtilization",
    "Memory": "ECSServiceAverageMemoryUtilization",
}


def service_name_parameter(process: Process) -> str:
    return f"{process.logical}ServiceName"


def _scale(template: Template, process: Process, cluster: Ref) -> None:
    service = Ref(service_name_parameter(process))
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


def build_autoscaling(model: AppModel) -> Template:
    """Model in, autoscaling template out (only built when some process is scaled)."""
    template = new_template(f"{model.app} {model.environment}: task autoscaling")
    cluster = Ref(add_parameter(template, "ClusterName", "ECS cluster."))
    for process in model.scaled_processes:
        add_parameter(template, service_name_parameter(process), f"ECS service of {process.name}.")
        _scale(template, process, cluster)
    return template
