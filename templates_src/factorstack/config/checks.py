"""Checks that span fields or files, each reported at the field a user has to change."""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Iterator

from factorstack.config.models import (
    DEFAULT_PROCESS_USER,
    AppSpec,
    DatabaseSpec,
    EnvironmentSpec,
    ParameterRef,
    ProcessSettings,
    ProcessSpec,
    SecretRef,
    ServiceAttributeRef,
    database_app_username,
)
from factorstack.config.regions import known_region
from factorstack.model import (
    CACHE_SECRET_KEYS,
    DATABASE_SECRET_KEYS,
    GENERATED_CACHE_SECRET,
    GENERATED_DATABASE_SECRET,
    ROTATION_USER_SUFFIX,
    logical_name,
    scratch_volume_name,
)

# Fargate task sizes: cpu units → the memory values (MiB) it accepts.
FARGATE_MEMORY_BY_CPU: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}
# MySQL major versions past RDS standard support (end dates from AWS's RDS MySQL release
# calendar): running one bills RDS Extended Support, so it takes `extended_support: true`.
MYSQL_PAST_STANDARD_SUPPORT = {"8.0": "2026-07-31"}
# Fargate stops a task at most 120 s after SIGTERM; a job needs some of that to finish and exit.
FARGATE_STOP_TIMEOUT_SECONDS = 120
SHUTDOWN_MARGIN_SECONDS = 10
# Below this, binding a port takes root or CAP_NET_BIND_SERVICE; every container has neither.
UNPRIVILEGED_PORTS_START = 1024
# /23 at most: cut into 16 subnets, each is still the /27 a load balancer needs.
SMALLEST_VPC_PREFIX, LARGEST_VPC_PREFIX = 16, 23

Problem = tuple[str, str, str]  # (file, field, message)


def _spoken_list(values: list[str], last: str = "or") -> str:
    if len(values) == 1:
        return values[0]
    return f"{', '.join(values[:-1])} {last} {values[-1]}"


def _memory_hint(cpu: int) -> str:
    options = FARGATE_MEMORY_BY_CPU[cpu]
    if len(options) <= 4:
        return _spoken_list([str(m) for m in options])
    step = options[1] - options[0]
    return f"{options[0]} to {options[-1]} in steps of {step}"


# A secret name ending like a full ARN's random suffix ("app-stripe"): tasks name a secret by
# its partial ARN, which Secrets Manager then takes for a full one (GetSecretValue, SecretId).
ARN_SUFFIX_LOOKALIKE = re.compile(r"-[^-/]{6}$")

# Process names whose stack would take the logical id of another child of the root.
# The nested stacks' own names: a process of the same name would take their logical id.
RESERVED_PROCESS_NAMES = frozenset(
    {"network", "cluster", "data", "autoscaling", "alerts", "endpoints", "release", "rotation"}
)


def _name_problems(app: AppSpec, app_file: str) -> Iterator[Problem]:
    """Process names must give distinct logical ids that no other part of the app uses."""
    by_logical: dict[str, str] = {}
    for name in app.processes:
        if name in RESERVED_PROCESS_NAMES:
            taken = ", ".join(sorted(RESERVED_PROCESS_NAMES))
            yield (app_file, f"processes.{name}", f"{name!r} is reserved ({taken}); rename it")
        first = by_logical.setdefault(logical_name(name), name)
        if first != name:
            yield (
                app_file,
                f"processes.{name}",
                f"gives the same logical id ({logical_name(name)}) as {first!r}; rename one",
            )


def job_timeout(command: list[str] | tuple[str, ...] | None) -> int | None:
    """The `--timeout N` / `--timeout=N` a queue worker's command gives its jobs, if any."""
    words = list(command or [])
    for index, word in enumerate(words):
        value = None
        if word.startswith("--timeout="):
            value = word.split("=", 1)[1]
        elif word == "--timeout" and index + 1 < len(words):
            value = words[index + 1]
        if value is not None and value.isdigit():
            return int(value)
    return None


def _runtime_problems(app: AppSpec, app_file: str) -> Iterator[Problem]:
    """What AWS accepts but the app would suffer from at run time."""
    longest = FARGATE_STOP_TIMEOUT_SECONDS - SHUTDOWN_MARGIN_SECONDS
    for name, spec in app.processes.items():
        timeout = job_timeout(spec.command)
        if timeout is not None and timeout > longest:
            yield (
                app_file,
                f"processes.{name}.command",
                f"--timeout {timeout} is longer than Fargate's {FARGATE_STOP_TIMEOUT_SECONDS} s "
                f"stop window, so every deploy and scale-in kills jobs mid-way "
                f"(use --timeout={longest} or less and split longer jobs)",
            )
    database = app.database
    if database is not None:
        yield from _database_user_problems(app.app, database, app_file)
    if database is not None and not database.extended_support:
        major = ".".join(database.engine_version.split(".")[:2])
        ended = MYSQL_PAST_STANDARD_SUPPORT.get(major)
        if ended:
            yield (
                app_file,
                "database.engine_version",
                f"MySQL {major} left RDS standard support on {ended} and would bill Extended "
                "Support (use 8.4, or set `extended_support: true` to pay for it)",
            )


def _database_user_problems(
    app_name: str, database: DatabaseSpec, app_file: str
) -> Iterator[Problem]:
    """The app's user must be another user than the master: it gets one schema's rights."""
    app_user = database_app_username(app_name, database)
    if app_user == database.username:
        field = "app_username" if database.app_username else "username"
        yield (
            app_file,
            f"database.{field}",
            f"the app's database user and the master user are both {app_user!r}, but the app "
            "must not sign in as the master (give database.app_username another name)",
        )
    # Rotation alternates the app user with its `_clone`: neither may be the master.
    partner = app_user + ROTATION_USER_SUFFIX
    if app_user.endswith(ROTATION_USER_SUFFIX) or partner == database.username:
        field = "app_username" if database.app_username else "username"
        yield (
            app_file,
            f"database.{field}",
            f"rotation alternates the app's user {app_user!r} with {partner!r} (the suffix "
            f"{ROTATION_USER_SUFFIX!r}), so neither may end in it or be the master user "
            "(give database.app_username another name)",
        )


def _container_problems(app: AppSpec, app_file: str) -> Iterator[Problem]:
    """Every container runs as a user that is not root and writes to distinct volumes only."""
    for name, spec in app.processes.items():
        where = f"processes.{name}"
        if spec.user.split(":")[0] == "0":
            yield (
                app_file,
                f"{where}.user",
                f"{spec.user} runs the container as root (use the image's own user, "
                f"e.g. {DEFAULT_PROCESS_USER}, www-data in Debian-based images)",
            )
        if spec.port is not None and spec.port < UNPRIVILEGED_PORTS_START:
            yield (
                app_file,
                f"{where}.port",
                f"{spec.port} is a privileged port, which a container that is not root and has "
                f"no capabilities cannot listen on (use {UNPRIVILEGED_PORTS_START} or above, "
                "e.g. 8080)",
            )
        for message in _writable_problems(spec.writable):
            yield (app_file, f"{where}.writable", message)


def _writable_problems(paths: list[str]) -> Iterator[str]:
    """Each writable path gets a volume of its own, named after it."""
    by_volume: dict[str, list[str]] = {}
    for path in paths:
        by_volume.setdefault(scratch_volume_name(path), []).append(path)
    for volume, sharing in by_volume.items():
        distinct = sorted(set(sharing))
        if len(distinct) > 1:
            yield (
                f"{_spoken_list(distinct, 'and')} would share the scratch volume {volume!r} "
                "(rename one of the directories)"
            )
        elif len(sharing) > 1:
            yield f"{sharing[0]} is listed more than once (keep one)"


def _secret_name_problems(app: AppSpec, app_file: str) -> Iterator[Problem]:
    """Names of existing secrets that the tasks could not read by name."""
    for name in app.secrets:
        if ARN_SUFFIX_LOOKALIKE.search(name):
            yield (
                app_file,
                "secrets",
                f"{name!r} ends in a hyphen and six characters, which Secrets Manager reads as "
                "the random suffix of a full ARN, so ECS could not read it (rename the secret "
                "so that its last hyphen is not followed by exactly six characters)",
            )
    for reserved in (GENERATED_DATABASE_SECRET, GENERATED_CACHE_SECRET):
        if reserved in app.secrets:
            yield (
                app_file,
                "secrets",
                f"{reserved!r} names the generated {reserved} secret (rename yours)",
            )


def check_app(app: AppSpec, app_file: str) -> Iterator[Problem]:
    """References inside app.yaml: parameters, secrets and services used must be declared."""
    yield from _name_problems(app, app_file)
    yield from _runtime_problems(app, app_file)
    yield from _container_problems(app, app_file)
    if app.release is not None and app.release.process not in app.processes:
        known = _spoken_list(sorted(app.processes), "or")
        yield (
            app_file,
            "release.process",
            f"{app.release.process!r} is not a process (use {known})",
        )
    balanced = [name for name, spec in app.processes.items() if spec.port is not None]
    for extra in balanced[1:]:
        yield (
            app_file,
            f"processes.{extra}.port",
            f"only one process can sit behind the load balancer ({balanced[0]} already does; "
            "remove this port)",
        )
    yield from _secret_name_problems(app, app_file)
    scopes = [("environment", app.environment)] + [
        (f"processes.{name}.environment", spec.environment) for name, spec in app.processes.items()
    ]
    for scope, variables in scopes:
        for variable, value in variables.items():
            field = f"{scope}.{variable}"
            messages = [*_plain_value_problems(value), *_reference_problems(app, value)]
            yield from ((app_file, field, message) for message in messages)


def _plain_value_problems(value: object) -> Iterator[str]:
    """`${AWS::Region}` in a plain value would reach the container as those characters: a
    variable's value is passed as written, never substituted (and cfn-lint refuses it)."""
    if isinstance(value, str) and "${" in value:
        yield (
            f"{value!r}: `${{...}}` is not substituted; a plain value reaches the container as "
            "written (write the value itself, or read it from a parameter)"
        )


def _reference_problems(app: AppSpec, value: object) -> Iterator[str]:
    if isinstance(value, ParameterRef) and value.parameter not in app.parameters:
        yield (
            f"parameter {value.parameter!r} is used but not declared "
            f"(add it to `parameters:` in app.yaml)"
        )
    elif isinstance(value, SecretRef):
        yield from _secret_problems(app, value)
    elif isinstance(value, ServiceAttributeRef):
        chosen = [s for s in ("database", "cache") if getattr(value, s) is not None]
        if len(chosen) != 1:
            yield "name exactly one service: {database: host|port} or {cache: host|port}"
        elif getattr(app, chosen[0]) is None:
            yield f"uses the {chosen[0]}, but app.yaml declares none (add a `{chosen[0]}:` section)"


def _secret_problems(app: AppSpec, ref: SecretRef) -> Iterator[str]:
    generated = {
        GENERATED_DATABASE_SECRET: DATABASE_SECRET_KEYS,
        GENERATED_CACHE_SECRET: CACHE_SECRET_KEYS,
    }
    if ref.secret in generated:
        if getattr(app, ref.secret) is None:
            yield (
                f"uses the generated {ref.secret} secret, but app.yaml declares no {ref.secret} "
                f"(add a `{ref.secret}:` section)"
            )
        elif ref.key not in generated[ref.secret]:
            yield (
                f"the {ref.secret} secret has no key {ref.key!r} "
                f"(use {_spoken_list(list(generated[ref.secret]))})"
            )
    elif ref.secret not in app.secrets:
        yield f"secret {ref.secret!r} is used but not declared (add it to `secrets:` in app.yaml)"


def check_environment(app: AppSpec, env: EnvironmentSpec, env_file: str) -> Iterator[Problem]:
    """Values in one environment file, checked against app.yaml and AWS's rules."""
    yield from _network_problems(env, env_file)
    yield from _edge_problems(app, env, env_file)
    for name, sizing in env.processes.items():
        if name not in app.processes:
            known = _spoken_list(sorted(app.processes), "and")
            yield (env_file, f"processes.{name}", f"unknown process (app.yaml defines {known})")
            continue
        yield from _size_problems(sizing, f"processes.{name}", env_file)
        yield from _task_count_problems(app.processes[name], name, sizing, env_file)
        # `spot` needs no check here: Fargate Spot takes X86_64 and ARM64 Linux tasks on the
        # platform version the services use (LATEST; ARM64 needs 1.4.0 or later: lint rule E9009).
    # RDS refuses a storage-autoscaling ceiling less than 10% above the allocated storage;
    # a ceiling equal to it turns storage autoscaling off.
    allocated, ceiling = env.database.allocated_storage_gb, env.database.max_allocated_storage_gb
    lowest_ceiling = math.ceil(allocated * 11 / 10)
    if ceiling < allocated:
        yield (
            env_file,
            "database.max_allocated_storage_gb",
            f"{ceiling} is below allocated_storage_gb {allocated} (raise it to at least "
            f"{lowest_ceiling}, or to {allocated} to turn storage autoscaling off)",
        )
    elif allocated < ceiling < lowest_ceiling:
        yield (
            env_file,
            "database.max_allocated_storage_gb",
            f"{ceiling} is less than 10% above allocated_storage_gb {allocated}, which RDS "
            f"refuses (raise it to at least {lowest_ceiling}, or set it to {allocated} to turn "
            "storage autoscaling off)",
        )
    if env.certificate_arn and f":acm:{env.region}:" not in env.certificate_arn:
        yield (
            env_file,
            "certificate_arn",
            f"the certificate must be in the environment's region {env.region} "
            "(use one from there)",
        )
    if env.certificate_arn and not env.domain_name:
        yield (
            env_file,
            "domain_name",
            "is required with certificate_arn: browsers check the certificate against the "
            "name the app answers at (add the domain the certificate covers)",
        )
    if env.role_arn and f"::{env.account}:" not in env.role_arn:
        yield (env_file, "role_arn", f"the role must belong to account {env.account}")
    yield from _override_problems(app, env, env_file)


def promotion_problems(
    env: EnvironmentSpec, name: str, known: list[str], env_file: str
) -> Iterator[Problem]:
    """`promotes_from` must name another environment of this repo."""
    if env.promotes_from is None:
        return
    problem = predecessor_problem(env.promotes_from, name, known, "remove the key")
    if problem:
        yield (env_file, "promotes_from", problem)


def predecessor_problem(source: str, name: str, known: list[str], drop: str) -> str | None:
    """What is wrong with `source` as the environment `name` promotes from (None: nothing);
    `drop` says how to do without one. The environment file and `plan --promotes-from` share it."""
    if source == name:
        return "names this environment itself (name the one before it)"
    if source in known:
        return None
    others = [other for other in known if other != name]
    use = f"use {_spoken_list(others)}, or {drop}" if others else drop
    return f"no environment {source!r} ({use})"


def _size_problems(sizing: ProcessSettings, where: str, env_file: str) -> Iterator[Problem]:
    """cpu and memory of one process: a pair Fargate offers."""
    if sizing.cpu not in FARGATE_MEMORY_BY_CPU:
        cpus = _spoken_list([str(c) for c in FARGATE_MEMORY_BY_CPU])
        yield (env_file, f"{where}.cpu", f"{sizing.cpu} is not a Fargate cpu size (use {cpus})")
    elif sizing.memory not in FARGATE_MEMORY_BY_CPU[sizing.cpu]:
        yield (
            env_file,
            f"{where}.memory",
            f"{sizing.memory} is not valid with cpu {sizing.cpu} (use {_memory_hint(sizing.cpu)})",
        )


def _task_count_problems(
    spec: ProcessSpec, name: str, sizing: ProcessSettings, env_file: str
) -> Iterator[Problem]:
    """min_tasks and max_tasks of one process: none for a singleton, else in order."""
    where = f"processes.{name}"
    if spec.singleton:
        for bound in ("min_tasks", "max_tasks"):
            if bound in sizing.model_fields_set:
                yield (
                    env_file,
                    f"{where}.{bound}",
                    f"{name} is a singleton and always runs exactly one task (remove {bound})",
                )
    elif sizing.min_tasks > sizing.max_tasks:
        given = "" if "max_tasks" in sizing.model_fields_set else " (the default)"
        yield (
            env_file,
            f"{where}.max_tasks",
            f"{sizing.max_tasks}{given} is below min_tasks {sizing.min_tasks} (raise it)",
        )


def _network_problems(env: EnvironmentSpec, env_file: str) -> Iterator[Problem]:
    try:
        network = ipaddress.ip_network(env.network.cidr)
    except ValueError:
        yield (
            env_file,
            "network.cidr",
            f"{env.network.cidr!r} is not a network range (use one like 10.0.0.0/16)",
        )
        return
    if network.version != 4 or not SMALLEST_VPC_PREFIX <= network.prefixlen <= LARGEST_VPC_PREFIX:
        yield (
            env_file,
            "network.cidr",
            f"{env.network.cidr} must be an IPv4 range from /{SMALLEST_VPC_PREFIX} "
            f"to /{LARGEST_VPC_PREFIX} (use one like 10.0.0.0/16)",
        )
    if env.network.nat_gateways > env.network.availability_zones:
        yield (
            env_file,
            "network.nat_gateways",
            f"{env.network.nat_gateways} is more than the {env.network.availability_zones} "
            "availability zones (use at most one per zone)",
        )


# An address SNS can mail: one @, a dot in the domain, no spaces. SNS itself accepts more and
# only fails at confirmation time; a typo here would mean alarms that reach nobody.
EMAIL_PATTERN = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def _edge_problems(app: AppSpec, env: EnvironmentSpec, env_file: str) -> Iterator[Problem]:
    """Who is notified, and whether the region's load balancer logs can be delivered."""
    seen: set[str] = set()
    for index, email in enumerate(env.notify.emails):
        if not EMAIL_PATTERN.match(email):
            yield (
                env_file,
                f"notify.emails.{index}",
                f"{email!r} is not an email address (use one like ops@example.com)",
            )
        elif email.lower() in seen:
            yield (env_file, f"notify.emails.{index}", f"{email} is listed twice (keep one)")
        seen.add(email.lower())
    if env.notify.emails and not env.notify.topic:
        yield (
            env_file,
            "notify.topic",
            f"false: no topic, so nothing mails {', '.join(env.notify.emails)} "
            "(set topic: true, or empty notify.emails)",
        )
    balanced = any(spec.port is not None for spec in app.processes.values())
    if balanced and not known_region(env.region):
        yield (
            env_file,
            "region",
            f"{env.region} is a region factorstack does not know, so it cannot grant the "
            "load balancer's access-log writer (check the spelling, or add the region to "
            "config/regions.py from AWS's access-log documentation)",
        )


def _override_problems(app: AppSpec, env: EnvironmentSpec, env_file: str) -> Iterator[Problem]:
    references = ParameterRef | SecretRef | ServiceAttributeRef
    for variable, value in env.environment.items():
        for message in _plain_value_problems(value):
            yield (env_file, f"environment.{variable}", message)
        current = [app.environment.get(variable)] + [
            spec.environment.get(variable) for spec in app.processes.values()
        ]
        if all(value is None for value in current):
            # A variable only one environment has would give its process templates a container
            # variable the others lack: the environments would no longer run the same templates.
            yield (
                env_file,
                f"environment.{variable}",
                "app.yaml declares no such variable, and an environment may only change the "
                "value of one it declares (add it to app.yaml's environment with the value the "
                "other environments get)",
            )
            continue
        if any(isinstance(value, references) for value in current):
            yield (
                env_file,
                f"environment.{variable}",
                "app.yaml reads this from a parameter, secret or service; a plain value here "
                "would replace it (remove it, or change app.yaml)",
            )
