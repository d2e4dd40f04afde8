"""Data stack: RDS MySQL and ElastiCache (Valkey or Redis) in the isolated subnets, each with a
generated secret, encrypted at rest and in transit, reachable only from the app's tasks on its
own port.

Both keep their data: Snapshot on replacement and deletion; secrets are retained.
"""

from __future__ import annotations

import json

from troposphere import GetAtt, Parameter, Ref, Split, Sub, Template, ec2, rds, secretsmanager
from troposphere import elasticache as cache_types

from factorstack.model import AppModel, Cache, Database
from factorstack.stacks.common import add_output, add_parameter, new_template, retain

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
# Passed by the root. A first create runs with "false" so that a failed create can roll back
# (deletion protection would block the delete of the new database: ROLLBACK_FAILED); apply
# then turns it on in a follow-up update.
DELETION_PROTECTION_PARAMETER = "DatabaseDeletionProtection"


def mysql_parameter_family(db: Database) -> str:
    return f"mysql{db.major_version}"


def _security_group(
    template: Template, model: AppModel, name: str, service: str, port: int, vpc: Ref, tasks: Ref
) -> ec2.SecurityGroup:
    """A data service's group: the app's tasks on the service's port, nothing else."""
    return template.add_resource(
        ec2.SecurityGroup(
            name,
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
        )
    )


def _database(
    template: Template, model: AppModel, db: Database, vpc: Ref, subnets: Ref, tasks: Ref
) -> None:
    secret = template.add_resource(
        retain(
            secretsmanager.Secret(
                "DatabaseSecret",
                Description=f"{model.app} {model.environment} database master credentials",
                GenerateSecretString=secretsmanager.GenerateSecretString(
                    SecretStringTemplate=json.dumps(
                        {"username": db.username, "dbname": db.name}, sort_keys=True
                    ),
                    GenerateStringKey="password",
                    PasswordLength=PASSWORD_LENGTH,
                    ExcludeCharacters=PASSWORD_EXCLUDED_CHARACTERS,
                ),
            )
        )
    )
    deletion_protection = template.add_parameter(
        Parameter(
            DELETION_PROTECTION_PARAMETER,
            Type="String",
            AllowedValues=["true", "false"],
            Description="RDS deletion protection (false while the stack is first created).",
        )
    )
    group = _security_group(template, model, "DatabaseSecurityGroup", "MySQL", db.port, vpc, tasks)
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
            Description=f"{model.app} {model.environment}: TLS required",
            Family=mysql_parameter_family(db),
            Parameters={"require_secure_transport": "ON"},
        )
    )
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
                DeletionProtection=Ref(deletion_protection),
                BackupRetentionPeriod=db.backup_retention_days,
                CopyTagsToSnapshot=True,
                AutoMinorVersionUpgrade=True,
                DBSubnetGroupName=Ref(subnet_group),
                DBParameterGroupName=Ref(parameters),
                VPCSecurityGroups=[Ref(group)],
            ),
            policy="Snapshot",
        )
    )
    if db.engine_version == db.major_version:
        # AWS accepts a major-version prefix (and matches it by prefix in drift detection);
        # cfn-lint's E3691 knows exact versions only. The plan's preflight checks the prefix
        # against the versions RDS offers in the region.
        database.Metadata = {"cfn-lint": {"config": {"ignore_checks": ["E3691"]}}}
    template.add_resource(
        secretsmanager.SecretTargetAttachment(
            "DatabaseSecretAttachment",
            SecretId=Ref(secret),
            TargetId=Ref(database),
            TargetType="AWS::RDS::DBInstance",
        )
    )
    add_output(template, "DatabaseHost", GetAtt(database, "Endpoint.Address"), "MySQL host.")
    add_output(template, "DatabasePort", GetAtt(database, "Endpoint.Port"), "MySQL port.")
    add_output(template, "DatabaseSecretArn", Ref(secret), "Master credentials and dbname.")


def _cache(
    template: Template, model: AppModel, cache: Cache, vpc: Ref, subnets: Ref, tasks: Ref
) -> None:
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
    engine_name = ENGINE_NAMES[cache.engine]
    group = _security_group(
        template, model, "CacheSecurityGroup", engine_name, cache.port, vpc, tasks
    )
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
    add_output(
        template, "CacheHost", GetAtt(replication_group, "PrimaryEndPoint.Address"), "Cache host."
    )
    add_output(
        template, "CachePort", GetAtt(replication_group, "PrimaryEndPoint.Port"), "Cache port."
    )
    add_output(template, "CacheSecretArn", Ref(secret), "Cache auth token under key `token`.")


def build_data(model: AppModel) -> Template:
    """Model in, data template out; only the services app.yaml declares are present."""
    template = new_template(f"{model.app} {model.environment}: database and cache, isolated")
    vpc = Ref(add_parameter(template, "VpcId", "VPC of the app.", "AWS::EC2::VPC::Id"))
    subnets = Ref(add_parameter(template, "IsolatedSubnetIds", "Comma-separated subnets."))
    tasks = Ref(
        add_parameter(
            template, "ServiceSecurityGroupId", "Tasks admitted.", "AWS::EC2::SecurityGroup::Id"
        )
    )
    if model.database is not None:
        _database(template, model, model.database, vpc, subnets, tasks)
    if model.cache is not None:
        _cache(template, model, model.cache, vpc, subnets, tasks)
    return template
