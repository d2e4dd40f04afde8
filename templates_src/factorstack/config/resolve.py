"""Merging app.yaml with one environment file into the AppModel the stacks consume."""

from __future__ import annotations

import ipaddress

from factorstack.config.models import (
    AppSpec,
    EnvironmentSpec,
    EnvValue,
    ParameterRef,
    ProcessSettings,
    SecretRef,
    ServiceAttributeRef,
    database_app_username,
)
from factorstack.config.regions import elb_log_account
from factorstack.model import (
    Alarms,
    AppModel,
    Cache,
    Database,
    Edge,
    Network,
    ParameterVariable,
    PlainVariable,
    Process,
    ReleasePhase,
    SecretVariable,
    ServiceVariable,
    Variable,
)

SUBNET_BITS = 4  # the VPC range is cut into 16 equal subnets: 3 tiers x up to 3 zones fit
TIER_OFFSETS = {"public": 0, "private": 4, "isolated": 8}


def _plain(value: str | int | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _variable(name: str, value: EnvValue) -> Variable:
    if isinstance(value, ParameterRef):
        return ParameterVariable(name, value.parameter)
    if isinstance(value, SecretRef):
        return SecretVariable(name, value.secret, value.key)
    if isinstance(value, ServiceAttributeRef):
        if value.database is not None:
            return ServiceVariable(name, "database", value.database)
        return ServiceVariable(name, "cache", value.cache)  # type: ignore[arg-type]
    return PlainVariable(name, _plain(value))


def _network(env: EnvironmentSpec) -> Network:
    vpc = ipaddress.ip_network(env.network.cidr)
    subnets = list(vpc.subnets(prefixlen_diff=SUBNET_BITS))
    zones = env.network.availability_zones

    def tier(name: str) -> tuple[str, ...]:
        first = TIER_OFFSETS[name]
        return tuple(str(s) for s in subnets[first : first + zones])

    return Network(
        cidr=str(vpc),
        availability_zones=zones,
        nat_gateways=env.network.nat_gateways,
        public_subnets=tier("public"),
        private_subnets=tier("private"),
        isolated_subnets=tier("isolated"),
        interface_endpoints=env.network.interface_endpoints,
        nat=env.network.nat,
    )


def _edge(env: EnvironmentSpec) -> Edge:
    balancer = env.load_balancer
    return Edge(
        deletion_protection=balancer.deletion_protection,
        access_log_days=balancer.access_log_days,
        log_writer_account=elb_log_account(env.region),
        waf_rate_limit=env.waf.rate_limit if env.waf.enabled else None,
    )


def resolve(app: AppSpec, env: EnvironmentSpec, env_name: str) -> AppModel:
    """Assumes `checks` found nothing: every reference here is known to resolve."""
    processes = []
    for name, spec in app.processes.items():
        sizing = env.processes.get(name, ProcessSettings())
        # The environment file has the last word on plain values (checks forbid it on references),
        # for the processes that declare them: a variable one process declares reaches no other.
        declared: dict[str, EnvValue] = {**app.environment, **spec.environment}
        overrides = {k: v for k, v in env.environment.items() if k in declared}
        merged: dict[str, EnvValue] = {**declared, **overrides}
        single = spec.singleton
        processes.append(
            Process(
                name=name,
                docker=spec.docker,
                command=tuple(spec.command) if spec.command else None,
                port=spec.port,
                health_check_path=spec.health_check_path,
                singleton=single,
                cpu=sizing.cpu,
                memory=sizing.memory,
                min_tasks=1 if single else sizing.min_tasks,
                max_tasks=1 if single else sizing.max_tasks,
                variables=tuple(_variable(k, merged[k]) for k in sorted(merged)),
                user=spec.user,
                writable=tuple(spec.writable),
                spot=sizing.spot,
            )
        )
    database = None
    if app.database is not None:
        settings = env.database
        database = Database(
            engine_version=app.database.engine_version,
            extended_support=app.database.extended_support,
            name=app.database.name,
            username=app.database.username,
            instance_class=settings.instance_class,
            multi_az=settings.multi_az,
            deletion_protection=settings.deletion_protection,
            backup_retention_days=settings.backup_retention_days,
            allocated_storage_gb=settings.allocated_storage_gb,
            max_allocated_storage_gb=settings.max_allocated_storage_gb,
            app_username=database_app_username(app.app, app.database),
            client_image=app.database.client_image,
            monitoring_interval_seconds=settings.monitoring_interval_seconds,
            rotation_days=settings.rotation_days,
        )
    cache = None
    if app.cache is not None:
        cache = Cache(
            engine=app.cache.engine,
            engine_version=app.cache.version,
            node_type=env.cache.node_type,
            replicas=env.cache.replicas,
            snapshot_retention_days=env.cache.snapshot_retention_days,
        )
    return AppModel(
        app=app.app,
        environment=env_name,
        account=env.account,
        region=env.region,
        cpu_architecture=env.cpu_architecture,
        network=_network(env),
        database=database,
        cache=cache,
        processes=tuple(processes),
        parameters=tuple(app.parameters),
        secrets=tuple(app.secrets),
        log_retention_days=env.log_retention_days,
        certificate_arn=env.certificate_arn,
        domain_name=env.domain_name,
        alarms=Alarms(**env.alarms.model_dump()),
        edge=_edge(env),
        notify_emails=tuple(env.notify.emails),
        alarm_topic=env.notify.topic,
        tags={"app": app.app, "environment": env_name},
        release_phase=None
        if app.release is None
        else ReleasePhase(
            process=app.release.process,
            command=tuple(app.release.command),
            timeout_seconds=app.release.timeout_minutes * 60,
        ),
    )
