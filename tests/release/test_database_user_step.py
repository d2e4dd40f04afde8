"""The release phase's user-setup step as the task runs it: the rendered container's script,
run by `sh` with the variables ECS would inject and a recording stand-in for the `mysql` client
(no MySQL server runs here). What a user relies on: the app user gets its own schema only, TLS
is required, no password is ever on a command line, and a failing client fails the step."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.templates import templates_of

REPO = Path(__file__).resolve().parents[2]
MASTER_PASSWORD = "m4st3r;pa$s#word(!)"  # the generated alphabet: no ' " ` \ / @
APP_PASSWORD = "app-Pa$$w0rd;#1%s{x}&*"
VARIABLES = {
    "MASTER_USERNAME": "app",
    "MASTER_PASSWORD": MASTER_PASSWORD,
    "DB_HOST": "example-dev.abc.eu-west-1.rds.amazonaws.com",
    "DB_PORT": "3306",
    "APP_USERNAME": "example_app",
    "APP_PASSWORD": APP_PASSWORD,
    "DB_NAME": "example",
}

# Records its arguments, its stdin and the option file it was handed, then exits as told.
FAKE_MYSQL = """#!{python}
import json, os, sys
flag = "--defaults-extra-file="
option_file = next(a[len(flag):] for a in sys.argv[1:] if a.startswith(flag))
with open(os.environ["FAKE_MYSQL_LOG"], "w") as log:
    json.dump({{"args": sys.argv[1:], "stdin": sys.stdin.read(),
               "options": open(option_file).read(),
               "mode": oct(os.stat(option_file).st_mode & 0o777)}}, log)
sys.exit(int(os.environ.get("FAKE_MYSQL_EXIT", "0")))
"""


@pytest.fixture(scope="module")
def step() -> dict[str, Any]:
    release = templates_of(REPO, "dev")["release-phase.json"]["Resources"]
    containers = release["ReleaseTaskDefinition"]["Properties"]["ContainerDefinitions"]
    return next(c for c in containers if c["Name"] == "database-user")


def run_step(step: dict[str, Any], tmp_path: Path, exit_code: int = 0) -> tuple[int, dict, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "mysql"
    fake.write_text(FAKE_MYSQL.format(python=sys.executable))
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    scratch = tmp_path / "scratch"  # the step's one writable volume
    scratch.mkdir()
    log = tmp_path / "mysql.json"
    env = {
        "PATH": f"{bin_dir}{os.pathsep}/usr/bin:/bin",
        "TMPDIR": str(scratch),
        "FAKE_MYSQL_LOG": str(log),
        "FAKE_MYSQL_EXIT": str(exit_code),
        **VARIABLES,
    }
    done = subprocess.run(
        [*step["EntryPoint"], *step["Command"]],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert list(scratch.iterdir()) == []  # the option file with the password is gone
    return done.returncode, json.loads(log.read_text()), done.stdout


def test_the_step_creates_the_app_user_with_rights_on_its_schema_only(step, tmp_path) -> None:
    code, mysql, stdout = run_step(step, tmp_path)
    assert code == 0
    assert mysql["stdin"].splitlines() == [
        f"CREATE USER IF NOT EXISTS 'example_app'@'%' IDENTIFIED BY '{APP_PASSWORD}' REQUIRE SSL;",
        f"ALTER USER 'example_app'@'%' IDENTIFIED BY '{APP_PASSWORD}' REQUIRE SSL;",
        "GRANT ALL PRIVILEGES ON `example`.* TO 'example_app'@'%';",
    ]
    assert stdout.strip() == "database user example_app may use schema example (TLS required)"


def test_the_master_signs_in_over_tls_and_no_password_is_on_a_command_line(step, tmp_path):
    _, mysql, _ = run_step(step, tmp_path)
    assert mysql["options"].splitlines() == [
        "[client]",
        'user="app"',
        f'password="{MASTER_PASSWORD}"',
        'host="example-dev.abc.eu-west-1.rds.amazonaws.com"',
        "port=3306",
        "ssl-mode=REQUIRED",
    ]
    assert mysql["mode"] == "0o600"  # umask 077: readable by the step's user only
    arguments = " ".join(mysql["args"])
    assert MASTER_PASSWORD not in arguments and APP_PASSWORD not in arguments
    assert mysql["args"][0].startswith("--defaults-extra-file=")  # the client wants it first
    rendered = json.dumps(step)
    assert MASTER_PASSWORD not in rendered and APP_PASSWORD not in rendered


def test_a_failing_client_fails_the_step(step, tmp_path) -> None:
    code, _, stdout = run_step(step, tmp_path, exit_code=1)
    assert code != 0
    assert "may use schema" not in stdout
