"""The resolved app for one environment: plain, validated data that the stacks turn into templates.

No YAML and no troposphere here: config produces an AppModel, stacks consume it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

GENERATED_DATABASE_SECRET = "database"
GENERATED_CACHE_SECRET = "cache"
DATABASE_SECRET_KEYS = ("username", "password", "dbname", "engine", "host", "port")
CACHE_SECRET_KEYS = ("token",)
MYSQL_PORT = 3306
# The MySQL client the release phase creates the app's database user with: the official image
# of the same LTS line as the server, from ECR Public (no Docker Hub pull limits on Fargate).
DEFAULT_MYSQL_CLIENT_IMAGE = "public.ecr.aws/docker/library/mysql:8.4"
# The second user of the app's database secret rotation: `APP_app` and `APP_app_clone` take
# turns, so tasks started before a rotation keep signing in.
ROTATION_USER_SUFFIX = "_clone"
REDIS_PORT = 6379


def repository_name(app: str, process: str) -> str:
    """The ECR repository of a process: the bootstrap stack creates it, releases push to it."""
    return f"{app}/{process}"


def logical_name(name: str) -> str:
    """`queue-worker` → `QueueWorker`: the stem of a process's logical ids."""
    return "".join(part.capitalize() for part in name.split("-"))


def scratch_volume_name(path: str) -> str:
    """`/run/apache2` → `run-apache2`: the task volume mounted writable at a container path."""
    return path.strip("/").replace("/", "-").replace(".", "-")


@dataclass(frozen=True)
class PlainVariable:
    name: str
    value: str


@dataclass(frozen=True)
class ServiceVariable:
    """A backing service's host or port, filled in from the data stack's outputs."""

    name: str
    service: Literal["database", "cache"]
    attribute: Literal["host", "port"]


@dataclass(frozen=True)
class ParameterVariable:
    name: str
    parameter: str  # SSM parameter name, with or without a leading slash


@dataclass(frozen=True)
class SecretVariable:
    """`secret` is `database`, `cache` (generated) or the name of an existing secret."""

    name: str
    secret: str
    key: str | None

    @property
    def generated(self) -> bool:
        return self.secret in (GENERATED_DATABASE_SECRET, GENERATED_CACHE_SECRET)


Variable = PlainVariable | ServiceVariable | ParameterVariable | SecretVariable


@dataclass(frozen=True)
class Process:
    name: str
    docker: str
    command: tuple[str, ...] | None
    port: int | None
    health_check_path: str
    singleton: bool
    cpu: int
    memory: int
    min_tasks: int
    max_tasks: int
    variables: tuple[Variable, ...]
    user: str  # numeric UID:GID, never root
    writable: tuple[str, ...]  # the only paths it may write; its root filesystem is read-only
    spot: bool = False  # on Fargate Spot (a load-balanced process keeps one regular task)

    @property
    def logical(self) -> str:
        return logical_name(self.name)

    @property
    def scratch_volumes(self) -> dict[str, str]:
        """Volume name → the container path where it is mounted writable."""
        return {scratch_volume_name(path): path for path in self.writable}

    @property
    def load_balanced(self) -> bool:
        return self.port is not None

    @property
    def scaled(self) -> bool:
        """Autoscaled on CPU and memory; a singleton never is."""
        return not self.singleton

    def variables_of(self, kind: type) -> list[Any]:
        return [v for v in self.variables if isinstance(v, kind)]


# The retention periods CloudWatch Logs accepts (PutRetentionPolicy, RetentionInDays), in days:
# config offers exactly these, and the stacks' LogRetentionDays parameters allow only these.
LOG_RETENTION_DAYS: tuple[int, ...] = (
    *(1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731),
    *(1096, 1827, 2192, 2557, 2922, 3288, 3653),
)


@dataclass(frozen=True)
class Network:
    cidr: str
    availability_zones: int
    nat_gateways: int
    public_subnets: tuple[str, ...]
    private_subnets: tuple[str, ...]
    isolated_subnets: tuple[str, ...]
    interface_endpoints: bool = False  # ECR, Logs, Secrets Manager, SSM, STS inside the VPC
    nat: str = "gateway"  # "gateway" (managed NAT gateways) or "instance" (one EC2 instance each)

    @property
    def nat_instances(self) -> bool:
        return self.nat == "instance"


@dataclass(frozen=True)
class Database:
    engine_version: str  # a major version ("8.4") or an exact one ("8.4.7")
    extended_support: bool
    name: str
    username: str
    instance_class: str
    multi_az: bool
    deletion_protection: bool
    backup_retention_days: int
    allocated_storage_gb: int
    max_allocated_storage_gb: int
    app_username: str = "app_user"  # the app's own user: its schema only, never the master
    client_image: str = DEFAULT_MYSQL_CLIENT_IMAGE  # the release phase's user-setup step
    monitoring_interval_seconds: int = 60  # RDS enhanced monitoring; 0 turns it off
    rotation_days: int = 30  # the app user's and master's secrets rotate every N days; 0: off
    port: int = MYSQL_PORT

    @property
    def major_version(self) -> str:
        """The major version ("8.4" of "8.4.7"): what the parameter family and support follow."""
        return ".".join(self.engine_version.split(".")[:2])


@dataclass(frozen=True)
class Cache:
    engine: str  # "valkey" or "redis"
    engine_version: str
    node_type: str
    replicas: int
    snapshot_retention_days: int
    port: int = REDIS_PORT


@dataclass(frozen=True)
class Alarms:
    error_rate_percent: float
    unhealthy_targets: int
    missing_tasks: int
    evaluation_minutes: int


@dataclass(frozen=True)
class Edge:
    """The load balancer's audit trail, protection and firewall."""

    deletion_protection: bool
    access_log_days: int
    log_writer_account: str | None  # the region's ELB account; None: the log-delivery service
    waf_rate_limit: int | None  # requests per IP and 5 minutes; None: no web ACL


@dataclass(frozen=True)
class ReleasePhase:
    """Twelve-factor XII: a command run once per deploy in one process's image, before any
    service rolls to the new release (e.g. database migrations)."""

    process: str
    command: tuple[str, ...]
    timeout_seconds: int


@dataclass(frozen=True)
class AppModel:
    app: str
    environment: str
    account: str
    region: str
    cpu_architecture: str
    network: Network
    database: Database | None
    cache: Cache | None
    processes: tuple[Process, ...]
    parameters: tuple[str, ...]
    secrets: tuple[str, ...]
    log_retention_days: int
    certificate_arn: str | None
    domain_name: str | None
    alarms: Alarms
    edge: Edge
    notify_emails: tuple[str, ...]  # where alarms are mailed (SNS email subscriptions)
    alarm_topic: bool = True  # False: no topic (nor its key); alarms notify nobody
    tags: dict[str, str] = field(default_factory=dict)
    image_digests: dict[str, str] = field(default_factory=dict)  # process → "sha256:..."
    release_phase: ReleasePhase | None = None

    @property
    def https(self) -> bool:
        return self.certificate_arn is not None

    @property
    def load_balanced_process(self) -> Process | None:
        return next((p for p in self.processes if p.load_balanced), None)

    @property
    def scaled_processes(self) -> list[Process]:
        return [p for p in self.processes if p.scaled]
