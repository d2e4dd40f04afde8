"""Pydantic models of `app.yaml` and `environments/ENV.yaml`: the shape of what a user writes.

Every default is stated here once, next to its field. Checks that need more than one field
(Fargate sizes, references between sections) live in `checks.py`, so that each problem can be
reported at the exact field that causes it.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from factorstack.model import DEFAULT_MYSQL_CLIENT_IMAGE

NAME_PATTERN = r"^[a-z][a-z0-9-]*[a-z0-9]$"
# An environment's name is its file's stem; it ends up in stack names, so CloudFormation's rules.
ENV_NAME_PATTERN = r"^[a-z][a-z0-9-]{0,19}$"
ENV_VAR_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
SSM_NAME_PATTERN = r"^/?[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)*$"
SECRET_NAME_PATTERN = r"^[A-Za-z0-9/_+=.@-]+$"
# REGISTRY/REPOSITORY[:TAG][@sha256:DIGEST], e.g. public.ecr.aws/docker/library/mysql:8.4
CLIENT_IMAGE_PATTERN = (
    r"^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?"
    r"(@sha256:[a-f0-9]{64})?$"
)

AppName = Annotated[str, StringConstraints(pattern=NAME_PATTERN, min_length=2, max_length=20)]
ProcessName = Annotated[str, StringConstraints(pattern=NAME_PATTERN, min_length=2, max_length=24)]
EnvVarName = Annotated[str, StringConstraints(pattern=ENV_VAR_PATTERN, max_length=255)]
SsmName = Annotated[str, StringConstraints(pattern=SSM_NAME_PATTERN, max_length=1011)]
SecretName = Annotated[str, StringConstraints(pattern=SECRET_NAME_PATTERN, max_length=512)]
# An absolute directory: each part starts with a letter, digit or `_` (so no `.` or `..`). Its
# scratch volume is named after it, within ECS's 255 characters.
CONTAINER_PATH_PATTERN = r"^(/[A-Za-z0-9_][A-Za-z0-9._-]*)+$"
ContainerPath = Annotated[str, StringConstraints(pattern=CONTAINER_PATH_PATTERN, max_length=255)]


class Strict(BaseModel):
    """Base for every config section: unknown keys are mistakes, not extensions."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------- app.yaml

# Every container runs as this user unless app.yaml names another: www-data in the Debian-based
# official PHP images, which the sample's three images use (their USER says the same).
DEFAULT_PROCESS_USER = "33:33"
# And writes only here (its root filesystem is read-only): temporary files.
DEFAULT_WRITABLE_PATHS = ("/tmp",)


class ProcessSpec(Strict):
    """One process type: its own image, task definition and service."""

    docker: str = Field(
        description="Folder under the repo holding the process's Dockerfile (relative, no ..)."
    )
    command: list[str] | None = Field(
        default=None, description="Overrides the image's CMD; omit to keep the image's own."
    )
    port: int | None = Field(
        default=None, ge=1, le=65535, description="Container port served behind the load balancer."
    )
    health_check_path: str = Field(
        default="/", pattern=r"^/\S*$", description="Path the load balancer probes."
    )
    singleton: bool = Field(
        default=False,
        description="Exactly one task at any time (a scheduler): never scaled, never two at once.",
    )
    environment: dict[EnvVarName, EnvValue] = Field(
        default_factory=dict, description="Variables for this process only, beside the app's."
    )
    user: str = Field(
        default=DEFAULT_PROCESS_USER,
        pattern=r"^[0-9]{1,10}:[0-9]{1,10}$",
        description="UID:GID the container runs as, numeric and never root (UID 0); the image's "
        "USER should say the same. Default 33:33, www-data in Debian-based images.",
    )
    writable: list[ContainerPath] = Field(
        default=list(DEFAULT_WRITABLE_PATHS),
        max_length=20,
        description="The only directories the process may write: each gets an empty scratch "
        "volume, the rest of the filesystem is read-only. The image declares each with VOLUME, "
        "owned by the user. Default [/tmp].",
    )

    @field_validator("docker")
    @classmethod
    def _inside_the_repo(cls, value: str) -> str:
        """Docker builds with the repo as its context: a folder outside it cannot be built."""
        path = PurePosixPath(value)
        if path.is_absolute() or ".." in path.parts or not value.strip():
            raise ValueError(
                f"{value!r} is not a folder inside the repo (write it relative to the repo, "
                "without ..)"
            )
        return value


class DatabaseSpec(Strict):
    engine: Literal["mysql"] = "mysql"
    engine_version: str = Field(
        default="8.4",
        pattern=r"^8\.[04](\.\d+)?$",
        description="MySQL major version (8.4, the LTS line), or an exact one such as 8.4.7. "
        "A major version alone lets RDS apply minor upgrades without drift.",
    )
    extended_support: bool = Field(
        default=False,
        description="Keep running a major version past RDS standard support (billed as RDS "
        "Extended Support). Off: such a version is refused instead of billed.",
    )
    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$", description="Schema created.")
    username: str = Field(
        default="app",
        pattern=r"^[A-Za-z][A-Za-z0-9_]{0,31}$",
        description="The master user: only the release phase's user-setup step signs in as it.",
    )
    app_username: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z][A-Za-z0-9_]{0,25}$",
        description="The user the processes and the release command sign in as, with rights "
        "on this schema only; `{secret: database, key: ...}` reads its secret. At most 26 "
        "characters (MySQL allows 32; the rest is kept for a second user when passwords "
        "rotate). Default: the app's name with `_app`, e.g. example_app.",
    )
    client_image: str = Field(
        default=DEFAULT_MYSQL_CLIENT_IMAGE,
        pattern=CLIENT_IMAGE_PATTERN,
        description="The MySQL client image that creates or updates the app's user before the "
        "release command runs; pin it by digest (IMAGE:TAG@sha256:...) to fix what runs.",
    )


def database_app_username(app: str, spec: DatabaseSpec) -> str:
    """The app's database user: app.yaml's `app_username`, else `APP_app` (hyphens, which
    MySQL would need quoted everywhere, become underscores)."""
    return spec.app_username or f"{app.replace('-', '_')}_app"


# The engine version each cache engine gets unless app.yaml names one.
CACHE_ENGINE_VERSIONS = {"valkey": "8.2", "redis": "7.1"}


class CacheSpec(Strict):
    engine: Literal["valkey", "redis"] = Field(
        default="valkey",
        description="valkey (Redis-compatible, open source, priced below Redis OSS on "
        "ElastiCache) or redis (Redis OSS 7.1 is the last version ElastiCache offers).",
    )
    engine_version: str | None = Field(
        default=None,
        pattern=r"^\d+\.\d+$",
        description="Major.minor; default: valkey 8.2, redis 7.1.",
    )

    @property
    def version(self) -> str:
        return self.engine_version or CACHE_ENGINE_VERSIONS[self.engine]


class ParameterRef(Strict):
    """A value read from SSM Parameter Store when the task starts."""

    parameter: SsmName


class SecretRef(Strict):
    """A value read from Secrets Manager when the task starts.

    `database` and `cache` name the generated secrets; any other name must be declared under
    `secrets:`. Without `key` the whole secret string is injected.
    """

    secret: SecretName
    key: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.\-]+$")


class ServiceAttributeRef(Strict):
    """The endpoint of a backing service, known only once the stack exists."""

    database: Literal["host", "port"] | None = None
    cache: Literal["host", "port"] | None = None


EnvValue = str | int | bool | ParameterRef | SecretRef | ServiceAttributeRef


class ReleaseSpec(Strict):
    """Twelve-factor XII: run once per deploy, before any service rolls to the new release."""

    process: ProcessName = Field(description="Whose image, variables and secrets it runs with.")
    command: list[str] = Field(
        min_length=1, description="e.g. [php, artisan, migrate, --force]; must exit 0."
    )
    timeout_minutes: int = Field(
        default=15,
        ge=1,
        le=55,
        description="How long it may run before the deploy fails (CloudFormation waits at most "
        "an hour for a custom resource).",
    )


class AppSpec(Strict):
    """`app.yaml`: what the app is, identical in every environment."""

    app: AppName = Field(description="Short name used in resource names and ECR repositories.")
    processes: dict[ProcessName, ProcessSpec] = Field(min_length=1)
    database: DatabaseSpec | None = None
    cache: CacheSpec | None = None
    parameters: list[SsmName] = Field(
        default_factory=list, description="Existing SSM parameters the app may read."
    )
    secrets: list[SecretName] = Field(
        default_factory=list, description="Existing Secrets Manager secrets the app may read."
    )
    environment: dict[EnvVarName, EnvValue] = Field(default_factory=dict)
    release: ReleaseSpec | None = Field(
        default=None, description="A release phase: e.g. migrations, once per deploy."
    )

    @field_validator("database", "cache", "release", mode="before")
    @classmethod
    def _written_but_empty(cls, value: object, info: ValidationInfo) -> object:
        """`cache:` with nothing under it (its one setting commented out) reads as null, which
        would mean no cache at all: say so rather than drop the section."""
        if value is None:
            name = info.field_name
            raise ValueError(f"empty (write `{name}: {{}}` for the defaults, or remove the key)")
        return value


ProcessSpec.model_rebuild()

# ------------------------------------------------------- environments/ENV.yaml


class NetworkSettings(Strict):
    cidr: str = Field(default="10.0.0.0/16", description="VPC range, /16 to /24.")
    availability_zones: int = Field(default=2, ge=2, le=3)
    nat_gateways: int = Field(default=1, ge=1, le=3, description="1, or one per zone.")
    interface_endpoints: bool = Field(
        default=False,
        description="VPC interface endpoints (ECR, CloudWatch Logs, Secrets Manager, SSM, STS) in "
        "the private subnets: tasks reach these AWS APIs without the NAT gateway. Each endpoint "
        "bills per zone and hour.",
    )
    nat: Literal["gateway", "instance"] = Field(
        default="gateway",
        description="How the private subnets reach the internet. `gateway`: managed NAT "
        "gateways. `instance`: one t4g.nano NAT instance per NAT zone instead, far cheaper but a "
        "single point of failure with no automatic recovery; for non-production only.",
    )


class LoadBalancerSettings(Strict):
    """The load balancer's audit trail and protection."""

    deletion_protection: bool = Field(
        default=True,
        description="Refuse to delete the load balancer (and so its DNS name) until this is "
        "turned off. A first create starts without it, so a failed create can roll back.",
    )
    access_log_days: int = Field(
        default=90, ge=1, le=3650, description="Days the access logs are kept in their bucket."
    )


class NotifySettings(Strict):
    """Who hears about alarms: each address gets an SNS email subscription to confirm."""

    emails: list[str] = Field(
        default_factory=list, max_length=50, description="Addresses alarms are mailed to."
    )
    topic: bool = Field(
        default=True,
        description=(
            "An SNS topic every alarm notifies, encrypted with its own KMS key ($1/month), that a "
            "person can subscribe chat or a pager to. false: no topic and no key; alarms still "
            "stop a bad deployment and show in the console, but notify nobody."
        ),
    )


class WafSettings(Strict):
    """An AWS WAF web ACL on the load balancer: AWS managed rules and a per-IP rate limit."""

    enabled: bool = Field(
        default=False, description="About $9/month plus $0.60 per million requests (2026)."
    )
    rate_limit: int = Field(
        default=2000,
        ge=10,
        le=2_000_000_000,
        description="Requests one IP address may send in 5 minutes before it is blocked.",
    )


class DatabaseSettings(Strict):
    instance_class: str = Field(default="db.t4g.micro", pattern=r"^db\.[a-z0-9]+\.[a-z0-9]+$")
    multi_az: bool = False
    deletion_protection: bool = True
    backup_retention_days: int = Field(default=7, ge=1, le=35)
    allocated_storage_gb: int = Field(default=20, ge=20, le=65536)
    max_allocated_storage_gb: int = Field(
        default=250,
        ge=20,
        le=65536,
        description="Storage autoscaling's ceiling: at least 10% above allocated_storage_gb "
        "(RDS refuses less), or equal to it to turn storage autoscaling off.",
    )
    monitoring_interval_seconds: Literal[0, 1, 5, 10, 15, 30, 60] = Field(
        default=60,
        description="RDS enhanced monitoring: OS metrics every N seconds (0 turns it off).",
    )
    rotation_days: int = Field(
        default=30,
        ge=0,
        le=1000,
        description="Days between rotations of the app user's database secret (two users take "
        "turns, then every service restarts) and of the master's; 1 to 1000 (Secrets "
        "Manager's range), 0 turns rotation off.",
    )


class CacheSettings(Strict):
    node_type: str = Field(default="cache.t4g.micro", pattern=r"^cache\.[a-z0-9]+\.[a-z0-9]+$")
    replicas: int = Field(default=0, ge=0, le=5, description="Read replicas beside the primary.")
    snapshot_retention_days: int = Field(default=1, ge=0, le=35)


class ProcessSettings(Strict):
    cpu: int = Field(default=256, description="Fargate CPU units.")
    memory: int = Field(default=512, description="MiB; must suit the cpu.")
    min_tasks: int = Field(default=1, ge=0, le=1000, description="Autoscaling floor.")
    max_tasks: int = Field(default=10, ge=1, le=1000, description="Autoscaling ceiling.")
    spot: bool = Field(
        default=False,
        description="Run on Fargate Spot, for processes that tolerate interruption (two "
        "minutes' notice). A load-balanced process keeps its first task on regular Fargate. "
        "X86_64 or ARM64.",
    )


class AlarmSettings(Strict):
    """When a release counts as broken: any of these alarms during a deployment rolls it back."""

    error_rate_percent: float = Field(
        default=5.0, gt=0, le=100, description="Share of web requests answered with a 5xx."
    )
    unhealthy_targets: int = Field(
        default=1, ge=1, description="Web tasks failing the load balancer's health check."
    )
    missing_tasks: int = Field(
        default=1, ge=1, description="Tasks below the desired count (tasks that keep stopping)."
    )
    evaluation_minutes: int = Field(
        default=3, ge=1, le=60, description="How many consecutive minutes before it alarms."
    )


class EnvironmentSpec(Strict):
    """`environments/ENV.yaml`: the values that differ between dev, staging and prod."""

    account: str = Field(pattern=r"^\d{12}$", description="AWS account id the stacks live in.")
    region: str = Field(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
    profile: str | None = Field(default=None, description="AWS profile to deploy with.")
    role_arn: str | None = Field(
        default=None, pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$", description="Role to assume."
    )
    cpu_architecture: Literal["X86_64", "ARM64"] = Field(
        default="X86_64", description="CPU the tasks run on; images are built for it."
    )
    network: NetworkSettings = NetworkSettings()
    database: DatabaseSettings = DatabaseSettings()
    cache: CacheSettings = CacheSettings()
    processes: dict[ProcessName, ProcessSettings] = Field(default_factory=dict)
    alarms: AlarmSettings = AlarmSettings()
    load_balancer: LoadBalancerSettings = LoadBalancerSettings()
    notify: NotifySettings = NotifySettings()
    waf: WafSettings = WafSettings()
    log_retention_days: Literal[
        1,
        3,
        5,
        7,
        14,
        30,
        60,
        90,
        120,
        150,
        180,
        365,
        400,
        545,
        731,
        1096,
        1827,
        2192,
        2557,
        2922,
        3288,
        3653,
    ] = 30
    certificate_arn: str | None = Field(
        default=None, pattern=r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[A-Za-z0-9-]+$"
    )
    domain_name: str | None = Field(
        default=None,
        max_length=253,
        pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
        description="Where the app answers (its DNS points at the load balancer): the AppUrl.",
    )
    environment: dict[EnvVarName, str | int | bool] = Field(
        default_factory=dict, description="Plain values that override app.yaml's for this env."
    )
    promotes_from: str | None = Field(
        default=None,
        pattern=ENV_NAME_PATTERN,
        description="The environment whose build this one follows (prod: staging); a plan "
        "shows what differs from it (`factorstack parity`).",
    )
