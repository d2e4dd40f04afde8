"""Data stack: RDS MySQL and ElastiCache (Valkey or Redis) in the isolated subnets, each with a
generated secret, encrypted at rest and in transit, reachable only from the app's tasks on its
own port and sending nothing out.

The database has two generated secrets: the master's, which only the release phase's user-setup
step reads, and the app user's (rights on its own schema only), which every process reads. It
exports its error and slow query logs and sends enhanced monitoring metrics.

Both keep their data: Snapshot on replacement and deletion; secrets are retained.

The template is the same text in every environment (twelve-factor X): sizes, counts, retention
and Multi-AZ arrive from the root as settings, and descriptions that name the environment read
it from `EnvironmentName`, resolving to the very text they had before (a security group's
GroupDescription and a parameter group's Description are create-only: new text replaces them).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Literal, NamedTuple

from awacs.aws import Allow, PolicyDocument, Principal, Statement
from awacs.sts import AssumeRole
from troposphere import (
    Equals,
    GetAtt,
    If,
    Not,
    Parameter,
    Ref,
    Split,
    Sub,
    ec2,
    iam,
    rds,
    secretsmanager,
)
from troposphere import elasticache as cache_types

from factorstack.model import AppModel, Cache, Database
from factorstack.stacks.cluster import ClusterOutputs
from factorstack.stacks.common import match_nothing_egress, retain
from factorstack.stacks.network import NetworkOutputs
from factorstack.stacks.policy import justify_database, justify_secret
from factorstack.stacks.wiring import ENVIRONMENT_NAME, Built, ChildStack, Handle

ENGINE_NAMES = {"valkey": "Valkey", "redis": "Redis"}
# Characters RDS refuses in a master password and ElastiCache in an auth token.
PASSWORD_EXCLUDED_CHARACTERS = "\"@/\\'`"
PASSWORD_LENGTH = 32
AUTH_TOKEN_LENGTH = 64
STORAGE_TYPE = "gp3"
# Standard support only: a major version past its end of standard support fails to create
# instead of silently billing RDS Extended Support.
LIFECYCLE_STANDARD = "open-source-rds-extended-support-disabled"
LIFECYCLE_EXTENDED = "open-source-rds-extended-support"
# Audit trail: the logs RDS sends to CloudWatch Logs (it creates their log groups itself). The
# slow query log needs slow_query_log=1 and log_output=FILE in the parameter group, or nothing
# is exported.
LOG_EXPORTS = ["error", "slowquery"]
SLOW_QUERY_SECONDS = "2"
MONITORING_POLICY = "service-role/AmazonRDSEnhancedMonitoringRole"  # AWS managed
MONITORING_INTERVALS = [0, 1, 5, 10, 15, 30, 60]  # seconds RDS accepts; 0 turns it off
MONITORING_ON = "DatabaseMonitoringOn"
CACHE_REPLICATED = "CacheReplicated"
CACHE_NODES = "CacheNodes"  # root parameters: deploy may change one before the other
CACHE_FAILOVER = "CacheFailover"


@dataclass(frozen=True)
class BackingServiceOutputs:
    """What a process needs to reach the database or the cache."""

    host: Handle
    port: Handle
    secret_arn: Handle

    def attribute(self, name: Literal["host", "port"]) -> Handle:
        return self.host if name == "host" else self.port


@dataclass(frozen=True)
class DataOutputs:
    """`database.secret_arn` is the app user's secret, the one processes read; only the release
    phase's user-setup step gets `database_master_secret_arn`."""

    database: BackingServiceOutputs | None
    cache: BackingServiceOutputs | None
    database_master_secret_arn: Handle | None = None

    def service(self, name: str) -> BackingServiceOutputs:
        """`database` or `cache`; config refuses a reference to a service the app lacks."""
        outputs = {"database": self.database, "cache": self.cache}.get(name)
        if outputs is None:
            raise ValueError(f"the data stack has no {name}")
        return outputs


class CacheShape(NamedTuple):
    """The cache's node count and its failover switch: root parameters, because deploy may
    change one before the other (ElastiCache refuses both in one update)."""

    nodes: Handle
    failover: Handle


class Placement(NamedTuple):
    """Where a data service lives, and whose traffic it admits."""

    vpc: Ref
    subnets: Ref  # comma-separated isolated subnets
    tasks: Ref  # the app tasks' security group: admitted, and given a rule out to the service


def mysql_parameter_family(db: Database) -> str:
    return f"mysql{db.major_version}"


def _described(child: ChildStack, model: AppModel, text: str) -> Sub:
    """`<app> <environment> <text>` with the environment read from the root, so the shared
    template resolves to each environment's own description."""
    child.environment_name()
    return Sub(f"{model.app} ${{{ENVIRONMENT_NAME}}} {text}")


def _generated_password(username: str, db: Database) -> secretsmanager.GenerateSecretString:
    return secretsmanager.GenerateSecretString(
        SecretStringTemplate=json.dumps({"username": username, "dbname": db.name}, sort_keys=True),
        GenerateStringKey="password",
        PasswordLength=PASSWORD_LENGTH,
        ExcludeCharacters=PASSWORD_EXCLUDED_CHARACTERS,
    )


def app_secret_fingerprint(db: Database) -> str:
    """Changes exactly when the app secret's generated value does (CloudFormation regenerates it
    when its GenerateSecretString changes): the release phase runs its user-setup step again."""
    generate = _generated_password(db.app_username, db).to_dict()
    return hashlib.sha256(json.dumps(generate, sort_keys=True).encode()).hexdigest()[:16]


def _security_group(
    child: ChildStack, model: AppModel, stem: str, service: str, port: int, vpc: Ref, tasks: Ref
) -> ec2.SecurityGroup:
    """A data service's group: the app's tasks on the service's port, nothing else, and nothing
    out; and the tasks' one rule out to it (their group has no other way to this port)."""
    template = child.template
    group = template.add_resource(
        ec2.SecurityGroup(
            f"{stem}SecurityGroup",
            # create-only: must resolve to the same text in each environment as before
            GroupDescription=_described(child, model, service),
            VpcId=vpc,
            SecurityGroupIngress=[
                ec2.SecurityGroupRule(
                    IpProtocol="tcp",
                    FromPort=port,
                    ToPort=port,
                    SourceSecurityGroupId=tasks,
                    Description=f"{service} from the app tasks only",
                )
            ],
            # Inline egress replaces the default allow-all; this rule matches nothing (ICMP
            # type 252, code 86, to 255.255.255.255), so nothing leaves. Replies to the tasks
            # still flow: security groups are stateful.
            SecurityGroupEgress=[match_nothing_egress("Disallow all traffic")],
        )
    )
    # Standalone, in this stack: the tasks' group lives in the cluster stack, which cannot
    # know this group.
    template.add_resource(
        ec2.SecurityGroupEgress(
            f"ServiceEgressTo{stem}",
            GroupId=tasks,
            IpProtocol="tcp",
            FromPort=port,
            ToPort=port,
            DestinationSecurityGroupId=Ref(group),
            Description=f"app tasks to {service} only",
        )
    )
    return group


def _database(
    child: ChildStack,
    model: AppModel,
    db: Database,
    placement: Placement,
    deletion_protection: Handle,
) -> tuple[BackingServiceOutputs, Handle]:
    """MySQL with TLS required; returns the app user's outputs and the master secret's handle.
    Its deletion protection comes from the root: a first create runs without it, so that a
    failed create can roll back (it would block the delete of the new database:
    ROLLBACK_FAILED); apply turns it on in a follow-up update."""
    template = child.template
    vpc, subnets, tasks = placement
    secret = template.add_resource(
        retain(
            secretsmanager.Secret(
                "DatabaseSecret",
                Description=_described(child, model, "database master credentials"),
                GenerateSecretString=_generated_password(db.username, db),
            )
        )
    )
    app_secret = template.add_resource(
        retain(
            secretsmanager.Secret(
                "DatabaseAppSecret",
                Description=_described(
                    child, model, "database app user credentials (its own schema only)"
                ),
                GenerateSecretString=_generated_password(db.app_username, db),
            )
        )
    )
    protected = child.take(
        deletion_protection,
        "RDS deletion protection (false while the stack is first created).",
        AllowedValues=["true", "false"],
    )
    group = _security_group(child, model, "Database", "MySQL", db.port, vpc, tasks)
    child.environment_name()  # the parameter group's Description reads it
    subnet_group = template.add_resource(
        rds.DBSubnetGroup(
            "DatabaseSubnetGroup",
            DBSubnetGroupDescription=_described(child, model, "isolated subnets"),
            SubnetIds=Split(",", subnets),
        )
    )
    parameters = template.add_resource(
        rds.DBParameterGroup(
            "DatabaseParameterGroup",
            # create-only: must resolve to the same text in each environment as before
            Description=Sub(
                f"{model.app} ${{{ENVIRONMENT_NAME}}}: TLS required, slow queries logged"
            ),
            Family=mysql_parameter_family(db),
            # Dynamic parameters all: a change applies without a reboot.
            Parameters={
                "require_secure_transport": "1",
                "slow_query_log": "1",
                "long_query_time": SLOW_QUERY_SECONDS,
                "log_output": "FILE",  # the only output RDS exports to CloudWatch Logs
            },
        )
    )
    monitoring = _enhanced_monitoring(child, db)
    sizes = _database_settings(child, db)
    database = template.add_resource(
        retain(
            rds.DBInstance(
                "Database",
                Engine="mysql",
                EngineVersion=db.engine_version,
                EngineLifecycleSupport=(
                    LIFECYCLE_EXTENDED if db.extended_support else LIFECYCLE_STANDARD
                ),
                # A new major version is a reviewed change: the data-loss guard names it.
                AllowMajorVersionUpgrade=True,
                DBInstanceClass=Ref(sizes.instance_class),
                DBName=db.name,
                MasterUsername=Sub(
                    "{{resolve:secretsmanager:${Secret}:SecretString:username}}",
                    Secret=Ref(secret),
                ),
                MasterUserPassword=Sub(
                    "{{resolve:secretsmanager:${Secret}:SecretString:password}}",
                    Secret=Ref(secret),
                ),
                AllocatedStorage=Ref(sizes.allocated_storage),
                MaxAllocatedStorage=Ref(sizes.max_allocated_storage),
                StorageType=STORAGE_TYPE,
                StorageEncrypted=True,
                EnableIAMDatabaseAuthentication=True,
                PubliclyAccessible=False,
                MultiAZ=Ref(sizes.multi_az),
                DeletionProtection=Ref(protected),
                BackupRetentionPeriod=Ref(sizes.backup_retention),
                CopyTagsToSnapshot=True,
                AutoMinorVersionUpgrade=True,
                DBSubnetGroupName=Ref(subnet_group),
                DBParameterGroupName=Ref(parameters),
                VPCSecurityGroups=[Ref(group)],
                EnableCloudwatchLogsExports=LOG_EXPORTS,
                **monitoring,
            ),
            policy="Snapshot",
        )
    )
    if db.engine_version == db.major_version:
        # AWS accepts a major-version prefix (and matches it by prefix in drift detection);
        # cfn-lint's E3691 knows exact versions only. The plan's preflight checks the prefix
        # against the versions RDS offers in the region.
        database.Metadata = {"cfn-lint": {"config": {"ignore_checks": ["E3691"]}}}
    justify_database(database, LOG_EXPORTS)
    justify_secret(secret)
    justify_secret(app_secret)
    # Each secret gains engine, host, port and dbInstanceIdentifier from its attachment.
    for stem, attached in (("DatabaseSecret", secret), ("DatabaseAppSecret", app_secret)):
        template.add_resource(
            secretsmanager.SecretTargetAttachment(
                f"{stem}Attachment",
                SecretId=Ref(attached),
                TargetId=Ref(database),
                TargetType="AWS::RDS::DBInstance",
            )
        )
    master = child.give("DatabaseSecretArn", Ref(secret), "Master credentials and dbname.")
    return BackingServiceOutputs(
        host=child.give("DatabaseHost", GetAtt(database, "Endpoint.Address"), "MySQL host."),
        port=child.give("DatabasePort", GetAtt(database, "Endpoint.Port"), "MySQL port."),
        secret_arn=child.give(
            "DatabaseAppSecretArn", Ref(app_secret), "App user credentials and dbname."
        ),
    ), master


class DatabaseSizes(NamedTuple):
    """The environment's choices for its database, as the root passes them."""

    instance_class: Parameter
    allocated_storage: Parameter
    max_allocated_storage: Parameter
    multi_az: Parameter
    backup_retention: Parameter


def _database_settings(child: ChildStack, db: Database) -> DatabaseSizes:
    """Sizes, Multi-AZ and backups: what an environment file decides about its database."""
    return DatabaseSizes(
        instance_class=child.setting(
            "DatabaseInstanceClass", db.instance_class, "RDS instance class."
        ),
        # A string, as RDS's schema types AllocatedStorage.
        allocated_storage=child.setting(
            "DatabaseAllocatedStorage",
            str(db.allocated_storage_gb),
            "Storage in GiB at create.",
            AllowedPattern="^[0-9]+$",
        ),
        max_allocated_storage=child.setting(
            "DatabaseMaxAllocatedStorage",
            db.max_allocated_storage_gb,
            "Storage autoscaling ceiling in GiB.",
            MinValue=20,
            MaxValue=65536,
        ),
        multi_az=child.setting(
            "DatabaseMultiAZ",
            db.multi_az,
            "A standby in a second zone (true/false).",
        ),
        backup_retention=child.setting(
            "DatabaseBackupRetentionDays",
            db.backup_retention_days,
            "Days of automated backups.",
            MinValue=1,
            MaxValue=35,
        ),
    )


def _enhanced_monitoring(child: ChildStack, db: Database) -> dict[str, object]:
    """OS metrics every `monitoring_interval_seconds` through a role RDS's monitoring service
    assumes; where the environment turns it off (interval 0), neither role nor interval."""
    interval = child.setting(
        "DatabaseMonitoringInterval",
        db.monitoring_interval_seconds,
        "Enhanced monitoring interval in seconds; 0 turns it off.",
        AllowedValues=MONITORING_INTERVALS,
    )
    on = child.condition(MONITORING_ON, Not(Equals(Ref(interval), 0)))
    role = child.template.add_resource(
        iam.Role(
            "DatabaseMonitoringRole",
            Condition=on,
            AssumeRolePolicyDocument=PolicyDocument(
                Version="2012-10-17",
                Statement=[
                    Statement(
                        Effect=Allow,
                        Principal=Principal("Service", "monitoring.rds.amazonaws.com"),
                        Action=[AssumeRole],
                    )
                ],
            ),
            ManagedPolicyArns=[Sub(f"arn:${{AWS::Partition}}:iam::aws:policy/{MONITORING_POLICY}")],
        )
    )
    return {
        # Always stated: 0 turns monitoring off. Left out, the RDS handler would send nothing
        # on an update and the database would keep its old interval.
        "MonitoringInterval": Ref(interval),
        "MonitoringRoleArn": If(on, GetAtt(role, "Arn"), Ref("AWS::NoValue")),
    }


def _cache(
    child: ChildStack, model: AppModel, cache: Cache, placement: tuple[Placement, CacheShape]
) -> BackingServiceOutputs:
    """Valkey or Redis, encrypted in transit, behind a generated auth token."""
    template = child.template
    (vpc, subnets, tasks), shape = placement
    secret = template.add_resource(
        retain(
            secretsmanager.Secret(
                "CacheSecret",
                Description=_described(child, model, "cache auth token"),
                GenerateSecretString=secretsmanager.GenerateSecretString(
                    SecretStringTemplate="{}",
                    GenerateStringKey="token",
                    PasswordLength=AUTH_TOKEN_LENGTH,
                    ExcludePunctuation=True,
                ),
            )
        )
    )
    justify_secret(secret)
    engine_name = ENGINE_NAMES[cache.engine]
    group = _security_group(child, model, "Cache", engine_name, cache.port, vpc, tasks)
    subnet_group = template.add_resource(
        cache_types.SubnetGroup(
            "CacheSubnetGroup",
            Description=_described(child, model, "isolated subnets"),
            SubnetIds=Split(",", subnets),
        )
    )
    node_type = child.setting("CacheNodeType", cache.node_type, "ElastiCache node type.")
    nodes = child.take(
        shape.nodes, "The primary plus its replicas.", "Number", MinValue=1, MaxValue=6
    )
    failover = child.take(
        shape.failover,
        "Automatic failover and Multi-AZ (on only with a replica to fail over to).",
        AllowedValues=["true", "false"],
    )
    snapshots = child.setting(
        "CacheSnapshotRetentionDays",
        cache.snapshot_retention_days,
        "Days of automatic snapshots; 0 turns them off.",
        MinValue=0,
        MaxValue=35,
    )
    # Failover and Multi-AZ need a replica to fail over to: the root turns them on with one.
    replicated = child.condition(CACHE_REPLICATED, Equals(Ref(failover), "true"))
    replication_group = template.add_resource(
        retain(
            cache_types.ReplicationGroup(
                "Cache",
                ReplicationGroupDescription=_described(child, model, engine_name),
                Engine=cache.engine,
                EngineVersion=cache.engine_version,
                CacheNodeType=Ref(node_type),
                NumCacheClusters=Ref(nodes),
                AutomaticFailoverEnabled=If(replicated, True, False),
                MultiAZEnabled=If(replicated, True, False),
                Port=cache.port,
                AtRestEncryptionEnabled=True,
                TransitEncryptionEnabled=True,
                AuthToken=Sub(
                    "{{resolve:secretsmanager:${Secret}:SecretString:token}}", Secret=Ref(secret)
                ),
                CacheSubnetGroupName=Ref(subnet_group),
                SecurityGroupIds=[Ref(group)],
                SnapshotRetentionLimit=Ref(snapshots),
                AutoMinorVersionUpgrade=True,
            ),
            policy="Snapshot",
        )
    )
    return BackingServiceOutputs(
        host=child.give(
            "CacheHost", GetAtt(replication_group, "PrimaryEndPoint.Address"), "Cache host."
        ),
        port=child.give(
            "CachePort", GetAtt(replication_group, "PrimaryEndPoint.Port"), "Cache port."
        ),
        secret_arn=child.give("CacheSecretArn", Ref(secret), "Cache auth token under key `token`."),
    )


def build_data(
    model: AppModel,
    *,
    network: NetworkOutputs,
    cluster: ClusterOutputs,
    deletion_protection: Handle | None,
    cache_shape: CacheShape | None = None,
) -> Built[DataOutputs]:
    """Model, the network and the tasks' group in, data stack out; only the services app.yaml
    declares are present. `deletion_protection` is required when there is a database, and
    `cache_shape` when there is a cache (root parameters both)."""
    child = ChildStack(
        "DataStack",
        "data.json",
        f"{model.app}: database and cache, isolated",
        environment=model.environment,
    )
    placement = Placement(
        vpc=Ref(child.take(network.vpc_id, "VPC of the app.", "AWS::EC2::VPC::Id")),
        subnets=Ref(child.take(network.isolated_subnet_ids, "Comma-separated subnets.")),
        tasks=Ref(
            child.take(
                cluster.service_security_group_id,
                "Tasks admitted.",
                "AWS::EC2::SecurityGroup::Id",
            )
        ),
    )
    database = master = None
    if model.database is not None:
        if deletion_protection is None:
            raise ValueError("a database needs the root's deletion-protection parameter")
        database, master = _database(child, model, model.database, placement, deletion_protection)
    cache = None
    if model.cache is not None:
        if cache_shape is None:
            raise ValueError("a cache needs the root's node count and failover parameters")
        cache = _cache(child, model, model.cache, (placement, cache_shape))
    return child.built(
        DataOutputs(database=database, cache=cache, database_master_secret_arn=master)
    )
