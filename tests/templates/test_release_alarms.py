"""Alarm rollback: a release that trips a "broken" alarm during its deployment is rolled back."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.sample import edit_yaml
from tests.support.templates import resources_of_type, templates_of

REPO = Path(__file__).resolve().parents[2]


def _service(template: dict) -> dict:
    (service,) = resources_of_type(template, "AWS::ECS::Service").values()
    return service["Properties"]


@pytest.mark.parametrize("process", ["web", "worker"])
def test_every_scaled_service_rolls_back_on_its_own_alarms(process):
    template = templates_of(REPO, "prod")[f"process-{process}.json"]
    alarms = resources_of_type(template, "AWS::CloudWatch::Alarm")
    deployment_alarms = _service(template)["DeploymentConfiguration"]["Alarms"]
    assert deployment_alarms["Enable"] is True
    assert deployment_alarms["Rollback"] is True
    assert deployment_alarms["AlarmNames"] == [{"Ref": name} for name in alarms]
    expected = {f"{process.capitalize()}TasksBelowDesiredAlarm"}
    if process == "web":
        expected |= {"WebErrorRateAlarm", "WebUnhealthyTargetsAlarm"}
    assert set(alarms) == expected


def test_the_singleton_has_no_below_desired_alarm_its_deploys_start_at_zero_tasks():
    template = templates_of(REPO, "prod")["process-scheduler.json"]
    assert resources_of_type(template, "AWS::CloudWatch::Alarm") == {}
    config = _service(template)["DeploymentConfiguration"]
    # stated as off: a template that left it out would keep alarms ECS attached before
    assert config["Alarms"] == {"AlarmNames": [], "Enable": False, "Rollback": False}
    assert config["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}


def test_tasks_below_desired_watches_this_service_in_this_cluster():
    template = templates_of(REPO, "dev")["process-worker.json"]
    alarm = template["Resources"]["WorkerTasksBelowDesiredAlarm"]["Properties"]
    assert _service(template)["ServiceName"] == "worker"
    stats = [m["MetricStat"]["Metric"] for m in alarm["Metrics"] if "MetricStat" in m]
    assert {s["MetricName"] for s in stats} == {"DesiredTaskCount", "RunningTaskCount"}
    for stat in stats:
        assert stat["Dimensions"] == [
            {"Name": "ClusterName", "Value": {"Ref": "ClusterName"}},
            {"Name": "ServiceName", "Value": "worker"},
        ]
    (expression,) = [m for m in alarm["Metrics"] if "Expression" in m]
    # No running series at all (every task failed to start) counts as zero, not as no data.
    assert expression["Expression"] == "desired - FILL(running, 0)"


def test_web_error_rate_and_unhealthy_targets_use_the_environment_thresholds():
    dev = templates_of(REPO, "dev")["process-web.json"]["Resources"]
    prod = templates_of(REPO, "prod")["process-web.json"]["Resources"]
    assert dev["WebErrorRateAlarm"]["Properties"]["Threshold"] == 10
    assert prod["WebErrorRateAlarm"]["Properties"]["Threshold"] == 2
    unhealthy = prod["WebUnhealthyTargetsAlarm"]["Properties"]
    assert unhealthy["MetricName"] == "UnHealthyHostCount"
    assert unhealthy["Dimensions"] == [
        {"Name": "LoadBalancer", "Value": {"Ref": "LoadBalancerFullName"}},
        {"Name": "TargetGroup", "Value": {"Ref": "TargetGroupFullName"}},
    ]
    assert unhealthy["EvaluationPeriods"] == 3


def test_alarm_thresholds_are_environment_values(sample_root: Path):
    edit_yaml(
        sample_root / "environments/dev.yaml",
        lambda d: d["alarms"].update(error_rate_percent=1.5, evaluation_minutes=5),
    )
    alarm = templates_of(sample_root, "dev")["process-web.json"]["Resources"]["WebErrorRateAlarm"]
    assert alarm["Properties"]["Threshold"] == 1.5
    assert alarm["Properties"]["EvaluationPeriods"] == 5


def test_containers_run_an_init_process_so_sigterm_reaches_the_app():
    for process in ("web", "worker", "scheduler"):
        template = templates_of(REPO, "dev")[f"process-{process}.json"]
        (task,) = resources_of_type(template, "AWS::ECS::TaskDefinition").values()
        (container,) = task["Properties"]["ContainerDefinitions"]
        assert container["LinuxParameters"]["InitProcessEnabled"] is True
