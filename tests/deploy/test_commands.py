"""The deploy subcommands as cli.py wires them: arguments, exit codes, one-line errors."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from factorstack.cli import main, make_parser
from factorstack.deploy import commands
from factorstack.deploy.local.server import serve_forever
from factorstack.errors import EXIT_CODES_HELP


def parse(*argv: str):
    return make_parser().parse_args(list(argv))


def test_plan_arguments() -> None:
    args = parse("plan", "dev", "--allow-replace", "Database", "--allow-replace", "Cache")
    assert args.func is commands.cmd_plan
    assert args.environment == "dev"
    assert args.allow_replace == ["Database", "Cache"]
    assert args.image_tag is None


@pytest.mark.parametrize("command", ["plan", "execute", "bootstrap"])
def test_allow_replace_takes_one_id_so_env_may_follow_it(command: str) -> None:
    args = parse(command, "--allow-replace", "Database", "dev", "--allow-replace", "Cache")
    assert args.environment == "dev"
    assert args.allow_replace == ["Database", "Cache"]


def test_release_has_no_timeout(capsys: pytest.CaptureFixture[str]) -> None:
    """release waits for no stack, so a --timeout there would do nothing."""
    with pytest.raises(SystemExit):
        main(["release", "--help"])
    assert "--timeout" not in capsys.readouterr().out
    assert main(["release", "dev", "--timeout", "5"]) == 2
    assert "unrecognized arguments: --timeout 5" in capsys.readouterr().err
    for command in ("plan", "apply", "execute", "bootstrap"):  # these wait for stacks
        assert parse(command, "dev", "--timeout", "5").timeout == 5


@pytest.mark.parametrize(
    "argv",
    [
        [command, "dev"]
        for command in ("plan", "apply", "execute", "bootstrap")  # these wait for stacks
    ]
    + [["run", "dev", "web"]],  # it follows a task
)
@pytest.mark.parametrize("seconds", ["-5", "0", "1.5", "soon"])
def test_a_timeout_is_a_positive_whole_number_of_seconds(
    argv: list[str], seconds: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Refused while parsing, so nothing starts (not: a task started, then "still
    DEACTIVATING after -5 s"). --root is an empty folder: a refusal that did not happen fails
    there, never against this checkout's own build."""
    task = ["--", "true"] if argv[0] == "run" else []
    assert main([*argv, "--root", str(tmp_path), "--timeout", seconds, *task]) == 2
    assert capsys.readouterr().err == (
        f"factorstack {argv[0]}: argument --timeout: {seconds!r}: give a positive whole number "
        "of seconds, e.g. 3600 (see --help)\n"
    )
    assert parse(*argv, "--timeout", "1", *task).timeout == 1


def test_root_given_before_the_command_is_kept() -> None:
    assert parse("--root", "/r", "plan", "dev").root == "/r"
    assert parse("plan", "dev", "--root", "/s").root == "/s"


def test_every_command_is_registered() -> None:
    for argv, func in [
        (["bootstrap", "dev"], commands.cmd_bootstrap),
        (["apply", "dev"], commands.cmd_apply),
        (["execute", "dev", "--image-tag", "v2"], commands.cmd_execute),
        (["local-aws", "--port", "5000"], commands.cmd_local_aws),
        (["status", "dev"], commands.cmd_status),
        (["run", "dev", "web", "--", "true"], commands.cmd_run),
        (["logs", "dev"], commands.cmd_logs),
    ]:
        assert parse(*argv).func is func


def test_run_takes_the_command_after_a_double_dash_as_it_is() -> None:
    args = parse("run", "dev", "web", "--detach", "--", "php", "-r", "echo 1;", "--", "--force")
    assert (args.environment, args.process, args.detach) == ("dev", "web", True)
    assert args.task_command == ["php", "-r", "echo 1;", "--", "--force"]
    assert parse("run", "dev", "web", "--", "ls", "-la").task_command == ["ls", "-la"]
    assert parse("run", "dev", "web", "--", "true").timeout == 3600
    assert main(["run", "dev", "web"]) == 2  # no command: a usage error


def test_logs_and_status_arguments() -> None:
    args = parse("logs", "dev", "web", "worker", "--since", "2h", "--follow", "--filter", "ERROR")
    assert (args.processes, args.since, args.follow, args.filter) == (
        ["web", "worker"],
        "2h",
        True,
        "ERROR",
    )
    defaults = parse("logs", "dev")
    assert (defaults.processes, defaults.since, defaults.follow) == ([], "10m", False)
    assert parse("status", "dev", "--json").json is True


@pytest.mark.parametrize("command", ["status", "run", "logs"])
def test_day_two_help_has_a_description_and_the_exit_codes(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert EXIT_CODES_HELP in out
    assert "deployed" in out


def test_help_lists_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["plan", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert EXIT_CODES_HELP in out  # one wording, from errors.py
    assert "1 AWS, build or deploy failure" in out


def test_missing_build_is_exit_2_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "dev.yaml").write_text("account: '123456789012'\n")
    assert main(["plan", "dev", "--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"{tmp_path}/build/dev/manifest.json: build for `dev` is missing (run `make templates`)"
    ]


@pytest.mark.parametrize("command", ["plan", "apply", "execute", "bootstrap"])
def test_an_unknown_environment_names_the_file_to_create(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    (tmp_path / "environments").mkdir()
    for env in ("dev", "prod"):
        (tmp_path / "environments" / f"{env}.yaml").write_text("account: '123456789012'\n")
    assert main([command, "nosuchenv", "--root", str(tmp_path)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "environments/nosuchenv.yaml: no such environment (defined: dev, prod; "
        "create environments/nosuchenv.yaml to add one)"
    ]


def test_apply_does_not_take_allow_replace(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", "dev", "--allow-replace", "Database"]) == 2


def test_local_aws_prints_exports_and_stops() -> None:
    lines: list[str] = []
    stop = threading.Event()
    stop.set()
    serve_forever(port=0, region="eu-west-1", echo=lines.append, stop=stop)
    exports = [line for line in lines if line.startswith("export ")]
    assert [line.split("=")[0] for line in exports] == [
        "export AWS_ENDPOINT_URL",
        "export AWS_ACCESS_KEY_ID",
        "export AWS_SECRET_ACCESS_KEY",
        "export AWS_DEFAULT_REGION",
    ]
    assert exports[0].startswith("export AWS_ENDPOINT_URL=http://127.0.0.1:")
    assert exports[-1] == "export AWS_DEFAULT_REGION=eu-west-1"
