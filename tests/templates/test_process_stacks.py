"""The process stacks: least-privilege roles, safe deployments, config injected by ECS."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.sample import edit_yaml
from tests.support.templates import resources_of_type, templates_of

REPO = Path(__file__).resolve().parents[2]
PROCESSES = ["web", "worker", "scheduler"]
ENVIRONMENTS = ["dev", "staging", "prod"]
# The paths each process writes (app.yaml; /tmp by default): nothing else is writable.
WRITABLE = {
    "web": ["/tmp", "/run/apache2", "/var/www/html/bootstrap/cache"],
    "worker": ["/tmp"],
    "scheduler": ["/tmp"],
}


@pytest.fixture(scope="module")
def dev() -> dict[str, dict]:
    return templates_of(REPO, "dev")


def _one(template: dict, kind: str) -> dict:
    (resource,) = resources_of_type(template, kind).values()
    return resource["Properties"]


def _statements(role: dict) -> list[dict]:
    return [s for policy in role["Policies"] for s in policy["PolicyDocument"]["Statement"]]


@pytest.mark.parametrize("process", PROCESSES)
def test_execution_role_uses_a_wildcard_only_for_the_ecr_token(dev, process):
    template = dev[f"process-{process}.json"]
    role = template["Resources"][f"{process.capitalize()}ExecutionRole"]["Properties"]
    for statement in _statements(role):
        resources = statement["Resource"]
        if "*" in resources:
            assert statement["Action"] == ["ecr:GetAuthorizationToken"]
            assert resources == ["*"]
        for resource in resources:
            assert "arn:aws:" not in json.dumps(resource)  # partition comes from the stack


@pytest.mark.parametrize("process", PROCESSES)
def test_execution_role_names_exact_repository_log_group_parameter_and_secrets(dev, process):
    role = dev[f"process-{process}.json"]["Resources"][f"{process.capitalize()}ExecutionRole"]
    by_action = {tuple(s["Action"]): s["Resource"] for s in _statements(role["Properties"])}
    assert by_action[
        ("ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage")
    ] == [
        {
            "Fn::Sub": "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:"
            f"repository/example/{process}"
        }
    ]
    assert by_action[("logs:CreateLogStream", "logs:PutLogEvents")] == [
        {
            "Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:"
            "log-group:${LogGroupName}:log-stream:*"
        }
    ]
    assert by_action[("ssm:GetParameters",)] == [
        {"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/APP_URL"}
    ]
    assert by_action[("secretsmanager:GetSecretValue",)] == [
        {
            "Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:"
            "secret:STRIPE-??????"
        },
        {"Ref": "CacheSecretArn"},
        {"Ref": "DatabaseAppSecretArn"},  # the app user's: never the master's
    ]


@pytest.mark.parametrize("process", PROCESSES)
def test_task_role_denies_all_of_iam(dev, process):
    role = dev[f"process-{process}.json"]["Resources"][f"{process.capitalize()}TaskRole"]
    assert _statements(role["Properties"]) == [
        {"Action": ["iam:*"], "Effect": "Deny", "Resource": ["*"]}
    ]


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
@pytest.mark.parametrize("process", PROCESSES)
def test_every_service_rolls_back_a_broken_release_and_leaves_the_count_alone(env, process):
    service = _one(templates_of(REPO, env)[f"process-{process}.json"], "AWS::ECS::Service")
    breaker = service["DeploymentConfiguration"]["DeploymentCircuitBreaker"]
    assert breaker == {"Enable": True, "Rollback": True}
    assert "DesiredCount" not in service
    assert "LaunchType" not in service  # a capacity provider strategy instead (cluster.py)
    # dev's worker and scheduler run on Spot (environments/dev.yaml); the rest on Fargate
    spot = env == "dev" and process != "web"
    expected = "FARGATE_SPOT" if spot else "FARGATE"
    assert service["CapacityProviderStrategy"][0]["CapacityProvider"] == expected
    network = service["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert network["AssignPublicIp"] == "DISABLED"
    assert network["Subnets"] == {"Fn::Split": [",", {"Ref": "PrivateSubnetIds"}]}


def test_the_scheduler_can_never_run_twice(dev):
    service = _one(dev["process-scheduler.json"], "AWS::ECS::Service")
    config = service["DeploymentConfiguration"]
    assert (config["MinimumHealthyPercent"], config["MaximumPercent"]) == (0, 100)
    scaling = dev["autoscaling.json"]["Resources"]
    assert not [name for name in scaling if name.startswith("Scheduler")]


def test_only_web_sits_behind_the_load_balancer(dev):
    web = _one(dev["process-web.json"], "AWS::ECS::Service")
    assert web["LoadBalancers"] == [
        {"ContainerName": "web", "ContainerPort": 8080, "TargetGroupArn": {"Ref": "TargetGroupArn"}}
    ]
    assert web["HealthCheckGracePeriodSeconds"] > 0
    for process in ("worker", "scheduler"):
        assert "LoadBalancers" not in _one(dev[f"process-{process}.json"], "AWS::ECS::Service")


def test_task_definition_is_fargate_sized_by_the_environment():
    prod = templates_of(REPO, "prod")
    task = _one(prod["process-web.json"], "AWS::ECS::TaskDefinition")
    assert task["RequiresCompatibilities"] == ["FARGATE"]
    assert task["NetworkMode"] == "awsvpc"
    # Cpu is a String setting, Memory a Number one (it also sizes the container): as passed.
    assert (task["Cpu"], task["Memory"]) == ("1024", 2048)
    (container,) = task["ContainerDefinitions"]
    assert container["Memory"] == 2048


def test_container_gets_config_from_parameters_secrets_and_plain_values(dev):
    task = _one(dev["process-worker.json"], "AWS::ECS::TaskDefinition")
    (container,) = task["ContainerDefinitions"]
    assert container["Command"] == ["php", "artisan", "queue:work", "--timeout=90"]
    environment = {e["Name"]: e["Value"] for e in container["Environment"]}
    assert environment["LOG_CHANNEL"] == "stdout"
    assert environment["DB_CONNECTION"] == "mysql"
    assert environment["DB_HOST"] == {"Ref": "DatabaseHost"}
    assert environment["REDIS_PORT"] == {"Ref": "CachePort"}
    secrets = {s["Name"]: s["ValueFrom"] for s in container["Secrets"]}
    assert secrets["DB_PASSWORD"] == {"Fn::Sub": "${DatabaseAppSecretArn}:password::"}
    assert secrets["DB_DATABASE"] == {"Fn::Sub": "${DatabaseAppSecretArn}:dbname::"}
    assert secrets["REDIS_PASSWORD"] == {"Fn::Sub": "${CacheSecretArn}:token::"}
    assert secrets["STRIPE_KEY"] == {
        "Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:"
        "secret:STRIPE:STRIPE_KEY::"
    }
    assert secrets["APP_URL"] == {
        "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/APP_URL"
    }
    assert not set(environment) & set(secrets)


def test_container_image_comes_from_the_process_repository_at_the_release_tag(dev):
    task = _one(dev["process-web.json"], "AWS::ECS::TaskDefinition")
    (container,) = task["ContainerDefinitions"]
    assert container["Image"] == {
        "Fn::Sub": "${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/"
        "example/web:${ImageTag}"
    }
    assert container["PortMappings"] == [{"ContainerPort": 8080, "Protocol": "tcp"}]


def test_logs_go_to_cloudwatch_through_awslogs(dev):
    task = _one(dev["process-web.json"], "AWS::ECS::TaskDefinition")
    (container,) = task["ContainerDefinitions"]
    assert container["LogConfiguration"] == {
        "LogDriver": "awslogs",
        "Options": {
            "awslogs-group": {"Ref": "LogGroupName"},
            "awslogs-region": {"Ref": "AWS::Region"},
            "awslogs-stream-prefix": "web",
        },
    }


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_web_and_worker_scale_on_cpu_and_memory_at_75_percent(env):
    scaling = templates_of(REPO, env)["autoscaling.json"]["Resources"]
    expected_bounds = {
        "dev": {"Web": (1, 2), "Worker": (1, 2)},
        "prod": {"Web": (2, 10), "Worker": (1, 10)},
    }
    for process, (low, high) in expected_bounds[env].items():
        target = scaling[f"{process}ScalableTarget"]["Properties"]
        # Picked from the root's comma-separated MinTasks/MaxTasks: text, as Fn::Select gives.
        assert (target["MinCapacity"], target["MaxCapacity"]) == (str(low), str(high))
        assert target["ScalableDimension"] == "ecs:service:DesiredCount"
        metrics = {
            scaling[f"{process}{m}Scaling"]["Properties"][
                "TargetTrackingScalingPolicyConfiguration"
            ]["PredefinedMetricSpecification"]["PredefinedMetricType"]: scaling[
                f"{process}{m}Scaling"
            ]["Properties"]["TargetTrackingScalingPolicyConfiguration"]["TargetValue"]
            for m in ("Cpu", "Memory")
        }
        assert metrics == {
            "ECSServiceAverageCPUUtilization": 75.0,
            "ECSServiceAverageMemoryUtilization": 75.0,
        }


@pytest.fixture(scope="module")
def every_env() -> dict[str, dict[str, dict]]:
    return {env: templates_of(REPO, env) for env in ENVIRONMENTS}


def _task_and_container(template: dict) -> tuple[dict, dict]:
    """The task and its process's container (the release task's last, after the database user
    step, which has its own tests)."""
    task = _one(template, "AWS::ECS::TaskDefinition")
    return task, task["ContainerDefinitions"][-1]


@pytest.mark.parametrize("env", ENVIRONMENTS)
@pytest.mark.parametrize(
    ("file", "process"),
    [(f"process-{p}.json", p) for p in PROCESSES] + [("release-phase.json", "web")],
)
def test_every_container_runs_as_www_data_read_only_with_no_capability(
    every_env, env, file, process
):
    """Non-root, read-only root filesystem, every Linux capability dropped (Fargate could add
    back only SYS_PTRACE); the init process stays, so SIGTERM still reaches the app."""
    task, container = _task_and_container(every_env[env][file])
    assert container["User"] == "33:33"
    assert container["ReadonlyRootFilesystem"] is True
    assert container["LinuxParameters"] == {
        "Capabilities": {"Drop": ["ALL"]},
        "InitProcessEnabled": True,
    }
    assert "Privileged" not in container
    # One empty task volume (a bind mount with no host) per writable path, mounted writable.
    mounts = container["MountPoints"]
    assert [m["ContainerPath"] for m in mounts] == WRITABLE[process]
    assert all(m["ReadOnly"] is False for m in mounts)
    # (the release task's database user step adds its own volume after these)
    assert task["Volumes"][: len(mounts)] == [{"Name": m["SourceVolume"]} for m in mounts]


def test_scratch_volumes_are_named_after_their_paths(every_env):
    _, container = _task_and_container(every_env["dev"]["process-web.json"])
    assert {m["SourceVolume"]: m["ContainerPath"] for m in container["MountPoints"]} == {
        "tmp": "/tmp",
        "run-apache2": "/run/apache2",
        "var-www-html-bootstrap-cache": "/var/www/html/bootstrap/cache",
    }


def test_user_and_writable_paths_come_from_app_yaml(sample_root):
    def change(app: dict) -> None:
        app["processes"]["worker"].update(user="1000:1000", writable=["/tmp", "/var/cache/app"])
        app["processes"]["scheduler"]["writable"] = []

    edit_yaml(sample_root / "app.yaml", change)
    templates = templates_of(sample_root, "dev")
    task, worker = _task_and_container(templates["process-worker.json"])
    assert worker["User"] == "1000:1000"
    assert [(m["SourceVolume"], m["ContainerPath"]) for m in worker["MountPoints"]] == [
        ("tmp", "/tmp"),
        ("var-cache-app", "/var/cache/app"),
    ]
    assert task["Volumes"] == [{"Name": "tmp"}, {"Name": "var-cache-app"}]
    task, scheduler = _task_and_container(templates["process-scheduler.json"])
    assert scheduler["ReadonlyRootFilesystem"] is True  # nothing writable at all
    assert "MountPoints" not in scheduler and "Volumes" not in task


def test_web_listens_on_an_unprivileged_port_from_the_load_balancer_on(every_env):
    """8080 everywhere behind the edge: the container, the target group and both rules between
    the load balancer and the tasks. The edge itself keeps 80 and 443."""
    for templates in every_env.values():
        _, container = _task_and_container(templates["process-web.json"])
        assert container["PortMappings"] == [{"ContainerPort": 8080, "Protocol": "tcp"}]
        cluster = templates["cluster.json"]["Resources"]
        assert cluster["TargetGroup"]["Properties"]["Port"] == 8080
        for rule in ("LoadBalancerEgressToService", "ServiceIngressFromLoadBalancer"):
            props = cluster[rule]["Properties"]
            assert (props["FromPort"], props["ToPort"]) == (8080, 8080), rule
        listeners = resources_of_type(
            templates["cluster.json"], "AWS::ElasticLoadBalancingV2::Listener"
        )
        assert {listener["Properties"]["Port"] for listener in listeners.values()} <= {80, 443}
