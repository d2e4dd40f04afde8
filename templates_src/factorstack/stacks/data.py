"""Data stack: RDS MySQL and ElastiCache (Valkey or Redis) in the isolated subnets, each with a
generated secret, encrypted at rest and in transit, reachable only from the app's tasks on its
own port and sending nothing out.

The database has two generated secrets: the master's, which only the release phase's user-setup
step reads, and the app user's (rights on its own schema only), which every process reads. It
exports its error and slow query logs and sends enhanced monitoring metrics.

Both keep their data: Snapshot on replacement and deletion; secrets are retained.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Literal, NamedTuple

from awacs.aws import Allow, PolicyDocument, Principal, Statement
from awacs.sts import AssumeRole
from troposphere import GetAtt, Ref, Split, Sub, Template, ec2, iam, rds, secretsmanager
from troposphere import elasticache as cache_types

from factorstack.model import AppModel, Cache, Database
from factorstack.stacks.cluster import ClusterOutputs
from factorstack.stacks.common import match_nothing_egress, retain
from factorstack.stacks.network import NetworkOutputs
from factorstack.stacks.policy import justify_database, justify_secret
from factorstack.stacks.wiring import Built, ChildStack, Handle

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


class Placement(NamedTuple):
    """Where a data service lives, and whose traffic it admits."""

    vpc: Ref
    subnets: Ref  # comma-separated isolated subnets
    tasks: Ref  # the app tasks' security group: admitted, and given a rule out to the service


def mysql_parameter_family(db: Database) -> str:
    return f"mysql{db.major_version}"


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
    template: Template, model: AppModel, stem: str, service: str, port: int, vpc: Ref, tasks: Ref
) -> ec2.SecurityGroup:
    """A data service's group: the app's tasks on the service's port, nothing else, and nothing
    out; and the tasks' one rule out to it (their group has no other way to this port)."""
    group = template.add_resource(
        ec2.SecurityGroup(
            f"{stem}SecurityGroup",
            GroupDescription=f"{model.app} {model.environment} {service}",
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
                Description=f"{model.app} {model.environment} database master credentials",
                GenerateSecretString=_generated_password(db.username, db),
            )
        )
    )
    app_secret = template.add_resource(
        retain(
            secretsmanager.Secret(
                "DatabaseAppSecret",
                Description=f"{model.app} {model.environment} database app user credentials "
                "(its own schema only)",
                GenerateSecretString=_generated_password(db.app_username, db),
            )
        )
    )
    protected = child.take(
        deletion_protection,
        "RDS deletion protection (false while the stack is first created).",
        AllowedValues=["true", "false"],
    )
    group = _security_group(template, model, "Database", "MySQL", db.port, vpc, tasks)
    subnet_group = template.add_resource(
        rds.DBSubnetGroup(
            "DatabaseSubnetGroup",
            DBSubnetGroupDescription=f"{model.app} {model.environment} isolated subnets",
            SubnetIds=Split(",", subnets),
        )
    )
    parameters = template.add_resource(
        rds.DBParameterGroup(
            "DatabaseParameterGroup",
            Description=f"{model.app} {model.environment}: TLS required, slow queries logged",
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
    monitoring = _enhanced_monitoring(template, db)
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
                DBInstanceClass=db.instance_class,
                DBName=db.name,
                MasterUsername=Sub(
                    "{{resolve:secretsmanager:${Secret}:SecretString:username}}",
                    Secret=Ref(secret),
                ),
                MasterUserPassword=Sub(
                    "{{resolve:secretsmanager:${Secret}:SecretString:password}}",
                    Secret=Ref(secret),
                ),
                AllocatedStorage=str(db.allocated_storage_gb),
                MaxAllocatedStorage=db.max_allocated_storage_gb,
                StorageType=STORAGE_TYPE,
                StorageEncrypted=True,
                EnableIAMDatabaseAuthentication=True,
                PubliclyAccessible=False,
                MultiAZ=db.multi_az,
                DeletionProtection=Ref(protected),
                BackupRetentionPeriod=db.backup_retention_days,
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
    justify_database(database, db, LOG_EXPORTS)
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


def _enhanced_monitoring(template: Template, db: Database) -> dict[str, object]:
    """OS metrics every `monitoring_interval_seconds` through a role RDS's monitoring service
    assumes; nothing when the environment turns it off (interval 0)."""
    if db.monitoring_interval_seconds == 0:
        return {}
    role = template.add_resource(
        iam.Role(
            "DatabaseMonitoringRole",
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
        "MonitoringInterval": db.monitoring_interval_seconds,
        "MonitoringRoleArn": GetAtt(role, "Arn"),
    }


def _cache(
    child: ChildStack, model: AppModel, cache: Cache, placement: Placement
) -> BackingServiceOutputs:
    """Valkey or Redis, encrypted in transit, behind a generated auth token."""
    template = child.template
    vpc, subnets, tasks = placement
    secret = template.add_resource(
        retain(
            secretsmanager.Secret(
                "CacheSecret",
                Description=f"{model.app} {model.environment} cache auth token",
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
    group = _security_group(template, model, "Cache", engine_name, cache.port, vpc, tasks)
    subnet_group = template.add_resource(
        cache_types.SubnetGroup(
            "CacheSubnetGroup",
            Description=f"{model.app} {model.environment} isolated subnets",
            SubnetIds=Split(",", subnets),
        )
    )
    with_replicas = cache.replicas > 0
    replication_group = template.add_resource(
        retain(
            cache_types.ReplicationGroup(
                "Cache",
                ReplicationGroupDescription=f"{model.app} {model.environment} {engine_name}",
                Engine=cache.engine,
                EngineVersion=cache.engine_version,
                CacheNodeType=cache.node_type,
                NumCacheClusters=1 + cache.replicas,
                AutomaticFailoverEnabled=with_replicas,
                MultiAZEnabled=with_replicas,
                Port=cache.port,
                AtRestEncryptionEnabled=True,
                TransitEncryptionEnabled=True,
                AuthToken=Sub(
                    "{{resolve:secretsmanager:${Secret}:SecretString:token}}", Secret=Ref(secret)
                ),
                CacheSubnetGroupName=Ref(subnet_group),
                SecurityGroupIds=[Ref(group)],
                SnapshotRetentionLimit=cache.snapshot_retention_days,
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
) -> Built[DataOutputs]:
    """Model, the network and the tasks' group in, data stack out; only the services app.yaml
    declares are present. `deletion_protection` is required when there is a database."""
    child = ChildStack(
        "DataStack",
        "data.json",
        f"{model.app} {model.environment}: database and cache, isolated",
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
    cache = None if model.cache is None else _cache(child, model, model.cache, placement)
    return child.built(
        DataOutputs(database=database, cache=cache, database_master_secret_arn=master)
    )
