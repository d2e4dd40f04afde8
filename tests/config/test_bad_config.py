"""Every mistake gets one line naming file, field and fix; exit 2; no traceback; build/ kept."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from factorstack.cli import main
from tests.support.sample import edit_yaml


def _set(*path_and_value):
    *path, value = path_and_value

    def change(data):
        for key in path[:-1]:
            data = data.setdefault(key, {})
        data[path[-1]] = value

    return change


def _delete(*path):
    def change(data):
        for key in path[:-1]:
            data = data[key]
        del data[path[-1]]

    return change


CASES = [
    (
        "environments/prod.yaml",
        _set("processes", "web", {"cpu": 256, "memory": 300}),
        "environments/prod.yaml: processes.web.memory: 300 is not valid with cpu 256 "
        "(use 512, 1024 or 2048)",
    ),
    (
        "environments/prod.yaml",
        _set("processes", "web", {"cpu": 1024, "memory": 1024}),
        "environments/prod.yaml: processes.web.memory: 1024 is not valid with cpu 1024 "
        "(use 2048 to 8192 in steps of 1024)",
    ),
    (
        "environments/dev.yaml",
        _set("processes", "web", {"cpu": 300, "memory": 512}),
        "environments/dev.yaml: processes.web.cpu: 300 is not a Fargate cpu size "
        "(use 256, 512, 1024, 2048, 4096, 8192 or 16384)",
    ),
    (
        "environments/dev.yaml",
        _set("processes", "mailer", {"cpu": 256, "memory": 512}),
        "environments/dev.yaml: processes.mailer: unknown process "
        "(app.yaml defines scheduler, web and worker)",
    ),
    (
        "environments/dev.yaml",
        _set("processes", "scheduler", {"cpu": 256, "memory": 512, "max_tasks": 3}),
        "environments/dev.yaml: processes.scheduler.max_tasks: scheduler is a singleton and "
        "always runs exactly one task (remove max_tasks)",
    ),
    (
        "environments/dev.yaml",
        _set("processes", "web", {"cpu": 256, "memory": 512, "min_tasks": 5, "max_tasks": 2}),
        "environments/dev.yaml: processes.web.max_tasks: 2 is below min_tasks 5 (raise it)",
    ),
    (
        "environments/dev.yaml",
        _set("processes", "web", {"cpu": 256, "memory": 512, "min_tasks": 20}),
        "environments/dev.yaml: processes.web.max_tasks: 10 (the default) is below min_tasks 20 "
        "(raise it)",
    ),
    (
        "app.yaml",
        _set("processes", "network", {"docker": "docker/network"}),
        "app.yaml: processes.network: 'network' is reserved (alerts, autoscaling, cluster, data, "
        "endpoints, network, release, rotation); rename it",
    ),
    (
        "app.yaml",
        lambda d: d["processes"].update(
            {"web-2": {"docker": "docker/apache"}, "web2": {"docker": "docker/apache"}}
        ),
        "app.yaml: processes.web2: gives the same logical id (Web2) as 'web-2'; rename one",
    ),
    (
        "environments/dev.yaml",
        _set("databse", {"multi_az": True}),
        "environments/dev.yaml: databse: unknown key (remove it or fix its spelling; "
        "`factorstack schema environment` lists the keys)",
    ),
    (
        "environments/dev.yaml",
        _delete("account"),
        "environments/dev.yaml: account: required (add it)",
    ),
    (
        "environments/dev.yaml",
        _set("network", "nat_gateways", 3),
        "environments/dev.yaml: network.nat_gateways: 3 is more than the 2 availability zones "
        "(use at most one per zone)",
    ),
    (
        "environments/dev.yaml",
        _set("network", "cidr", "10.0.0.0/8"),
        "environments/dev.yaml: network.cidr: 10.0.0.0/8 must be an IPv4 range from /16 to /23 "
        "(use one like 10.0.0.0/16)",
    ),
    (
        "environments/dev.yaml",
        _set("account", 111111111111),
        "environments/dev.yaml: account: 111111111111 is a number here, not text (quote it: "
        '"111111111111")',
    ),
    (
        "environments/dev.yaml",
        _set("network", "availability_zones", "two"),
        "environments/dev.yaml: network.availability_zones: 'two' is not a whole number (write "
        "it in digits, e.g. 2)",
    ),
    (
        "environments/dev.yaml",
        _set("log_retention_days", 10),
        "environments/dev.yaml: log_retention_days: 10 is not allowed (use 1, 3, 5, 7, 14, 30, 60, "
        "90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653)",
    ),
    (
        "environments/dev.yaml",
        _set("environment", "DB_PASSWORD", "hunter2"),
        "environments/dev.yaml: environment.DB_PASSWORD: app.yaml reads this from a parameter, "
        "secret or service; a plain value here would replace it (remove it, or change app.yaml)",
    ),
    (
        "app.yaml",
        _set("environment", "STRIPE_KEY", {"secret": "STRIPE2", "key": "KEY"}),
        "app.yaml: environment.STRIPE_KEY: secret 'STRIPE2' is used but not declared "
        "(add it to `secrets:` in app.yaml)",
    ),
    (
        "app.yaml",
        _set("secrets", ["STRIPE", "app-stripe"]),
        "app.yaml: secrets: 'app-stripe' ends in a hyphen and six characters, which Secrets "
        "Manager reads as the random suffix of a full ARN, so ECS could not read it (rename the "
        "secret so that its last hyphen is not followed by exactly six characters)",
    ),
    (
        "app.yaml",
        _set("environment", "APP_URL", {"parameter": "APP_URI"}),
        "app.yaml: environment.APP_URL: parameter 'APP_URI' is used but not declared "
        "(add it to `parameters:` in app.yaml)",
    ),
    (
        "app.yaml",
        _set("environment", "DB_DATABASE", {"secret": "database", "key": "name"}),
        "app.yaml: environment.DB_DATABASE: the database secret has no key 'name' "
        "(use username, password, dbname, engine, host or port)",
    ),
    (
        "app.yaml",
        _set("environment", "DB_HOST", {"databse": "host"}),
        "app.yaml: environment.DB_HOST: not a valid value (use a plain string or number, "
        "{parameter: NAME}, {secret: NAME, key: KEY}, {database: host|port} or {cache: host|port})",
    ),
    (
        "app.yaml",
        _set("processes", "web", "dockerfile", "docker/apache"),
        "app.yaml: processes.web.dockerfile: unknown key (remove it or fix its spelling; "
        "`factorstack schema app` lists the keys)",
    ),
    (
        "app.yaml",
        _set("processes", "Web_Server", {"docker": "docker/apache"}),
        "app.yaml: processes.Web_Server.[key]: 'Web_Server' is not valid "
        "(it must match ^[a-z][a-z0-9-]*[a-z0-9]$)",
    ),
    (
        "app.yaml",
        _set("processes", "worker", "port", 8080),
        "app.yaml: processes.worker.port: only one process can sit behind the load balancer "
        "(web already does; remove this port)",
    ),
    (
        "app.yaml",
        _delete("database"),
        "app.yaml: environment.DB_HOST: uses the database, but app.yaml declares none "
        "(add a `database:` section)",
    ),
    (
        "app.yaml",
        _set("processes", "worker", "command", ["php", "artisan", "queue:work", "--timeout=300"]),
        "app.yaml: processes.worker.command: --timeout 300 is longer than Fargate's 120 s stop "
        "window, so every deploy and scale-in kills jobs mid-way (use --timeout=110 or less and "
        "split longer jobs)",
    ),
    (
        "app.yaml",
        _set("processes", "worker", "command", ["celery", "worker", "--timeout", "600"]),
        "app.yaml: processes.worker.command: --timeout 600 is longer than Fargate's 120 s stop "
        "window, so every deploy and scale-in kills jobs mid-way (use --timeout=110 or less and "
        "split longer jobs)",
    ),
    (
        "app.yaml",
        _set("database", "engine_version", "8.0.43"),
        "app.yaml: database.engine_version: MySQL 8.0 left RDS standard support on 2026-07-31 "
        "and would bill Extended Support (use 8.4, or set `extended_support: true` to pay for it)",
    ),
    (
        "app.yaml",
        _set("processes", "web", "user", "0:33"),
        "app.yaml: processes.web.user: 0:33 runs the container as root (use the image's own "
        "user, e.g. 33:33, www-data in Debian-based images)",
    ),
    (
        "app.yaml",
        _set("processes", "web", "port", 80),
        "app.yaml: processes.web.port: 80 is a privileged port, which a container that is not "
        "root and has no capabilities cannot listen on (use 1024 or above, e.g. 8080)",
    ),
    (
        "app.yaml",
        _set("processes", "web", "user", "www-data"),
        "app.yaml: processes.web.user: 'www-data' is not valid (it must match "
        "^[0-9]{1,10}:[0-9]{1,10}$)",
    ),
    (
        "app.yaml",
        _set("processes", "worker", "writable", ["/tmp", "/tmp"]),
        "app.yaml: processes.worker.writable: /tmp is listed more than once (keep one)",
    ),
    (
        "app.yaml",
        _set("processes", "worker", "writable", ["/var/app.cache", "/var/app-cache"]),
        "app.yaml: processes.worker.writable: /var/app-cache and /var/app.cache would share the "
        "scratch volume 'var-app-cache' (rename one of the directories)",
    ),
    (
        "app.yaml",
        _set("processes", "worker", "writable", ["/tmp/../etc"]),
        "app.yaml: processes.worker.writable.0: '/tmp/../etc' is not valid (it must match "
        "^(/[A-Za-z0-9_][A-Za-z0-9._-]*)+$)",
    ),
    (
        "environments/prod.yaml",
        _delete("domain_name"),
        "environments/prod.yaml: domain_name: is required with certificate_arn: browsers check "
        "the certificate against the name the app answers at (add the domain the certificate "
        "covers)",
    ),
]


@pytest.fixture
def built_root(sample_root: Path) -> Path:
    """A sample repo with a previous good build in place, to prove a failure leaves it alone."""
    assert main(["--root", str(sample_root), "build", "--no-lint"]) == 0
    return sample_root


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize(("file", "change", "expected"), CASES, ids=[c[2][:60] for c in CASES])
def test_bad_config_gets_one_line_exit_2_and_build_untouched(
    built_root: Path, capsys, file, change, expected
):
    before = _snapshot(built_root / "build")
    edit_yaml(built_root / file, change)
    code = main(["--root", str(built_root), "build", "--no-lint"])
    captured = capsys.readouterr()
    assert code == 2
    assert expected in captured.err.splitlines()
    assert "Traceback" not in captured.err
    assert _snapshot(built_root / "build") == before


def test_every_problem_is_reported_not_only_the_first(sample_root: Path, capsys):
    edit_yaml(sample_root / "environments/dev.yaml", _set("processes", "web", {"cpu": 300}))
    edit_yaml(sample_root / "environments/prod.yaml", _set("region", "Europe"))
    assert main(["--root", str(sample_root), "build", "--no-lint"]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert any(line.startswith("environments/dev.yaml: processes.web.cpu") for line in errors)
    assert any(line.startswith("environments/prod.yaml: region") for line in errors)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("app: example\nprocesses:\n  web: [unclosed\n", "app.yaml:4: malformed YAML"),
        ("app: example\napp: other\n", "app.yaml:2: malformed YAML: key 'app' appears twice"),
        ("- just\n- a list\n", "app.yaml: top level must be a mapping of keys to values"),
    ],
)
def test_malformed_yaml_is_one_line_with_its_line_number(built_root: Path, capsys, text, expected):
    before = _snapshot(built_root / "build")
    (built_root / "app.yaml").write_text(text)
    assert main(["--root", str(built_root), "build", "--no-lint"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(expected)
    assert _snapshot(built_root / "build") == before


def test_missing_files_and_unknown_environment(sample_root: Path, capsys):
    assert main(["--root", str(sample_root), "build", "qa"]) == 2
    assert capsys.readouterr().err.strip() == (
        "environments/qa.yaml: no such environment (defined: dev, prod, staging; "
        "create environments/qa.yaml to add one)"
    )
    (sample_root / "app.yaml").unlink()
    assert main(["--root", str(sample_root), "build"]) == 2
    assert capsys.readouterr().err.strip() == "app.yaml: file not found (create it; see README)"


def test_usage_mistake_is_one_line_exit_2(capsys):
    assert main(["frobnicate"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "invalid choice: 'frobnicate'" in line


def test_a_file_that_is_not_utf8_is_one_line(built_root: Path, capsys):
    (built_root / "environments/dev.yaml").write_bytes(b"account: \xff\xfe\n")
    assert main(["--root", str(built_root), "build", "dev", "--no-lint"]) == 2
    assert capsys.readouterr().err.strip() == (
        "environments/dev.yaml: not UTF-8 text (save it as UTF-8)"
    )


def test_an_environment_name_cloudformation_refuses_is_one_line(sample_root: Path, capsys):
    shutil.copy(sample_root / "environments/dev.yaml", sample_root / "environments/my_env.yaml")
    assert main(["--root", str(sample_root), "build", "--no-lint"]) == 2
    assert capsys.readouterr().err.strip() == (
        "environments/my_env.yaml: 'my_env' is not a valid environment name (use lower-case "
        "letters, digits and '-', at most 20, starting with a letter; rename the file)"
    )
    assert not (sample_root / "build").exists()


def test_a_corrupt_manifest_is_one_line_for_lint(built_root: Path, capsys):
    (built_root / "build/dev/manifest.json").write_text("{")
    assert main(["--root", str(built_root), "lint"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "build/dev/manifest.json: unreadable manifest:" in line
    assert line.endswith("(run `make templates`)")


def test_environment_file_overrides_plain_values_but_never_a_process_reference(
    sample_root: Path, capsys
):
    from tests.support.templates import model_of

    edit_yaml(
        sample_root / "app.yaml",
        lambda d: d["processes"]["worker"].update(
            environment={"QUEUE": "default", "TOKEN": {"secret": "STRIPE", "key": "T"}}
        ),
    )
    edit_yaml(sample_root / "environments/dev.yaml", _set("environment", "QUEUE", "dev-queue"))
    processes = {p.name: p for p in model_of(sample_root, "dev").processes}
    worker = processes["worker"]
    assert {v.name: getattr(v, "value", None) for v in worker.variables}["QUEUE"] == "dev-queue"
    # only the process that declares it gets it: web runs the same variables in every env
    assert "QUEUE" not in {v.name for v in processes["web"].variables}

    edit_yaml(sample_root / "environments/dev.yaml", _set("environment", "TOKEN", "plain"))
    assert main(["--root", str(sample_root), "build", "dev", "--no-lint"]) == 2
    assert capsys.readouterr().err.startswith(
        "environments/dev.yaml: environment.TOKEN: app.yaml reads this from a parameter, secret"
    )


def test_an_environment_file_cannot_add_a_variable_app_yaml_does_not_declare(
    sample_root: Path, capsys
):
    """Such a variable would give that environment's process templates a container variable the
    others lack, so dev would no longer run the templates staging and prod run."""
    edit_yaml(sample_root / "environments/staging.yaml", _set("environment", "FEATURE_X", "on"))
    assert main(["--root", str(sample_root), "build", "--no-lint"]) == 2
    assert capsys.readouterr().err.strip() == (
        "environments/staging.yaml: environment.FEATURE_X: app.yaml declares no such variable, "
        "and an environment may only change the value of one it declares (add it to app.yaml's "
        "environment with the value the other environments get)"
    )
    assert not (sample_root / "build").exists()

    edit_yaml(sample_root / "app.yaml", _set("environment", "FEATURE_X", "off"))
    assert main(["--root", str(sample_root), "build", "--no-lint"]) == 0
    capsys.readouterr()
    texts = {
        env: (sample_root / f"build/{env}/process-web.json").read_text()
        for env in ("dev", "staging", "prod")
    }
    assert len(set(texts.values())) == 1


@pytest.mark.parametrize(("allocated", "ceiling", "lowest"), [(20, 21, 22), (100, 109, 110)])
def test_a_storage_ceiling_less_than_ten_percent_above_the_storage_is_refused(
    sample_root: Path, capsys, allocated: int, ceiling: int, lowest: int
):
    """RDS refuses MaxAllocatedStorage below 110% of AllocatedStorage ("Invalid max storage
    size"): the data stack would fail to update and roll back. Equal turns autoscaling off."""
    edit_yaml(
        sample_root / "environments/dev.yaml",
        lambda d: d["database"].update(
            allocated_storage_gb=allocated, max_allocated_storage_gb=ceiling
        ),
    )
    assert main(["--root", str(sample_root), "build", "dev", "--no-lint"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"environments/dev.yaml: database.max_allocated_storage_gb: {ceiling} is less than 10% "
        f"above allocated_storage_gb {allocated}, which RDS refuses (raise it to at least "
        f"{lowest}, or set it to {allocated} to turn storage autoscaling off)"
    )

    for accepted in (lowest, allocated):
        edit_yaml(
            sample_root / "environments/dev.yaml",
            lambda d, value=accepted: d["database"].update(max_allocated_storage_gb=value),
        )
        assert main(["--root", str(sample_root), "build", "dev", "--no-lint"]) == 0


def test_an_unknown_key_does_not_hide_the_other_problems(sample_root: Path, capsys):
    """Unknown keys are reported beside the checks across fields and files, in one run."""
    edit_yaml(sample_root / "app.yaml", _set("processes", "web", "dockerfile", "docker/apache"))
    edit_yaml(sample_root / "app.yaml", _set("environment", "STRIPE_KEY", {"secret": "STRIPE2"}))
    edit_yaml(sample_root / "environments/dev.yaml", _set("databse", {"multi_az": True}))
    edit_yaml(
        sample_root / "environments/dev.yaml",
        _set("processes", "web", {"cpu": 256, "memory": 300}),
    )
    assert main(["--root", str(sample_root), "build", "dev", "--no-lint"]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert [": ".join(line.split(": ")[:2]) for line in errors] == [  # file: field
        "app.yaml: processes.web.dockerfile",
        "app.yaml: environment.STRIPE_KEY",
        "environments/dev.yaml: databse",
        "environments/dev.yaml: processes.web.memory",
    ]
    assert "secret 'STRIPE2' is used but not declared" in errors[1]
    assert "300 is not valid with cpu 256" in errors[3]


def test_an_invalid_app_yaml_does_not_hide_an_environment_file_problem(sample_root, capsys):
    edit_yaml(sample_root / "app.yaml", _set("app", "Not_A_Name"))
    edit_yaml(sample_root / "environments/prod.yaml", _set("region", "Europe"))
    assert main(["--root", str(sample_root), "build", "--no-lint"]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert [line.split(":")[0] for line in errors] == ["app.yaml", "environments/prod.yaml"]
    assert errors[1].startswith("environments/prod.yaml: region: 'Europe' is not valid")


def test_the_retention_days_config_offers_are_those_the_stacks_allow() -> None:
    """One list of what CloudWatch Logs accepts: config's choices and the LogRetentionDays
    parameters' AllowedValues are the same (a wrong value fails at validation, not mid-deploy)."""
    from typing import get_args

    from factorstack.config.models import EnvironmentSpec
    from factorstack.model import LOG_RETENTION_DAYS

    annotation = EnvironmentSpec.model_fields["log_retention_days"].annotation
    assert get_args(annotation) == LOG_RETENTION_DAYS
