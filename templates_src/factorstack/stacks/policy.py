"""Why a resource may fail a policy checker's rule: the justifications `make policy` accepts.

One place for the reasons that more than one stack gives (log groups, buckets, secrets, the load
balancer's edge), so each stack module says `justify_x(resource)` and the words stay alike.
Child templates are the same text in every environment, so a reason never embeds one
environment's value: where an environment file may choose against a rule (single-AZ, logs kept
under a year, no certificate), the reason says which setting makes that choice. The gate judges
each environment's resolved view, so a justification only counts where its rule fires.
"""

from __future__ import annotations

from typing import TypeVar

from troposphere import AWSObject

from factorstack.stacks.common import justify

YEAR_DAYS = 365  # CT.CLOUDWATCH.PR.2 wants a log group kept at least this long
BACKUP_DAYS = 7  # CT.RDS.PR.8 wants at least this many days of automated backups

LOG_GROUP_KEY = (
    "CloudWatch Logs encrypts every log group at rest with a key it manages; a customer key "
    "would only add a key policy for logs.REGION.amazonaws.com and the power to revoke reading "
    "by key, which no factorstack environment needs (fix path: one KMS key per environment as "
    "KmsKeyId, an update without replacement)"
)
SECRET_KEY = (
    "encrypted at rest with the account's aws/secretsmanager key, which every reader in this "
    "account may use through Secrets Manager; a customer key is needed only to share the secret "
    "with another account (fix path: KmsKeyId, an update without replacement)"
)
R = TypeVar("R", bound=AWSObject)
NO_EVENTS = "nothing reacts to new objects in this bucket, so no event notification is configured"


# cfn-lint's I1022 prefers Fn::Sub to a Join with an empty delimiter; CT.S3.PR.8 reads only the
# Join form of a bucket's object ARN, so a TLS-only bucket policy waives the informational rule.
JOIN_FOR_GUARD = {"cfn-lint": {"config": {"ignore_checks": ["I1022"]}}}


RETENTION_REASON = (
    "kept as long as the environment file's log_retention_days says: an environment that keeps "
    f"logs under a year chooses so for cost, one that must keep a year sets {YEAR_DAYS}"
)


def justify_log_group(group: R) -> R:
    """A log group: encrypted with the service's key; kept under a year only by choice."""
    guard = {
        "cloudwatch_log_group_encrypted_check": LOG_GROUP_KEY,
        "cloudwatch_log_group_retention_period_check": RETENTION_REASON,
    }
    justify(group, checkov={"CKV_AWS_158": LOG_GROUP_KEY}, guard=guard)
    return group


NO_ALARM_TOPIC = (
    "notifies the environment's alarm topic, which its environment file may go without "
    "(notify.topic: false, mailing nobody): the alarm then has no action but still changes "
    "state, shows in the console and, for a release alarm, rolls the deployment back"
)


def justify_alarm(alarm: R) -> R:
    """An alarm: its only actions are the alarm topic, which an environment may not have."""
    justify(alarm, guard={"cloudwatch_alarm_action_check": NO_ALARM_TOPIC})
    return alarm


def justify_secret(secret: R) -> R:
    """A generated secret under the AWS managed key."""
    justify(secret, checkov={"CKV_AWS_149": SECRET_KEY})
    return secret


def justify_log_bucket(bucket: R, what: str, expires: str) -> R:
    """A bucket nobody reads object by object: no access log of its own, no object lock, no
    events. `what` says what it holds, `expires` how its lifecycle ends old objects."""
    access_logs = (
        f"holds only {what}; CloudTrail records who changes the bucket and its policy, and "
        "server access logs would need another bucket of their own (which would need one too)"
    )
    lock = (
        f"{expires} by lifecycle; Object Lock would keep objects the lifecycle must delete, and "
        "it can only be turned on when a bucket is created"
    )
    justify(
        bucket,
        checkov={"CKV_AWS_18": access_logs},
        guard={
            "s3_bucket_logging_enabled_check": access_logs,
            "s3_bucket_object_lock_enabled_check": lock,
            "s3_event_notifications_enabled_check": NO_EVENTS,
        },
    )
    return bucket


def justify_access_log_bucket(bucket: R) -> R:
    """The load balancer's access-log bucket: SSE-S3 is the only encryption ELB writes to."""
    justify_log_bucket(
        bucket,
        "the load balancer's access logs",
        "access logs expire after the environment file's load_balancer.access_log_days",
    )
    justify(
        bucket,
        guard={
            "s3_bucket_default_encryption_kms_check": (
                "Elastic Load Balancing writes access logs only to a bucket encrypted with "
                "S3-managed keys (SSE-S3); with SSE-KMS as the default no log arrives"
            )
        },
    )
    return bucket


def deletion_protection_reason(resource: str) -> str:
    """Deletion protection is the environment file's choice, passed as a root parameter."""
    return (
        f"the {resource}'s deletion protection is what the environment file chooses "
        "(deletion_protection): an environment without it says its data may be thrown away; "
        "where it is on, it is off only while the stack is first created (a failed create can "
        "then roll back) until deploy's follow-up update turns it on"
    )


PORT_80 = (
    "public load balancer: port 80 answers with a redirect to HTTPS in an environment with a "
    "certificate_arn; an environment file without one chooses to serve the app over plain HTTP "
    "on port 80"
)


def justify_load_balancer(edge: AWSObject, balancer: AWSObject, http_listener: AWSObject) -> None:
    """The public load balancer: port 80 open to everyone; HTTP served where there is no
    certificate; deletion protection from the root parameter."""
    justify(edge, checkov={"CKV_AWS_260": PORT_80})
    justify(
        balancer,
        guard={
            "elbv2_deletion_protection_enabled_check": deletion_protection_reason("load balancer")
        },
    )
    justify(
        http_listener,
        checkov={"CKV_AWS_2": PORT_80, "CKV_AWS_103": PORT_80},
        guard={"alb_http_to_https_redirection_check": PORT_80},
    )


SINGLE_AZ = (
    "Multi-AZ is the environment file's choice (database.multi_az); a single-AZ environment "
    "chooses it for cost, and a failed instance is then replaced from its storage and backups, "
    "not failed over"
)
SHORT_BACKUPS = (
    "the environment file chooses how many days of automated backups to keep "
    f"(database.backup_retention_days); under {BACKUP_DAYS} it says that data in that "
    "environment may be thrown away"
)


def justify_database(database: R, exports: list[str]) -> R:
    """The MySQL instance: what it chooses against the Control Tower RDS rules, and why."""
    guard = {
        "rds_instance_deletion_protection_enabled_check": deletion_protection_reason("database"),
        "rds_instance_logging_enabled_check": (
            f"exports {' and '.join(exports)} logs; the general log would record every "
            "statement with its data at high volume and cost, and the audit log needs the "
            "MariaDB audit plugin option group"
        ),
        "rds_instance_no_default_ports_check": (
            "a port other than 3306 hides nothing from a scanner inside the VPC: the database "
            "sits in isolated subnets and its security group admits only the app's tasks"
        ),
        "rds_storage_encrypted_kms_key_check": (
            "storage is encrypted with the aws/rds key; KmsKeyId is create-only, so a customer "
            "key would replace the database"
        ),
        "rds_instance_multi_az_support_check": SINGLE_AZ,
        "rds_instance_backup_enabled_check": SHORT_BACKUPS,
    }
    justify(database, checkov={"CKV_AWS_157": SINGLE_AZ}, guard=guard)
    return database


NAT_PUBLIC_ADDRESS = (
    "a NAT instance is the private subnets' way out to the internet: it sits in a public subnet "
    "and must have a public address (its Elastic IP); its security group admits only HTTPS from "
    "the private subnets"
)
NAT_IN_TRANSIT = (
    "it forwards only HTTPS (port 443), already encrypted end to end; the instance types with "
    "Nitro in-transit encryption start at several times a t4g.nano's price, and a NAT gateway "
    "would be the better buy at that point (network.nat: gateway)"
)
NAT_MONITORING = (
    "five-minute basic metrics suffice for an environment that chose a NAT instance to save "
    "cost; detailed monitoring is billed per metric and would add a large share of the "
    "instance's own price"
)


def justify_nat_instance(instance: R) -> R:
    """A NAT instance (network.nat: instance): public by design, a small burstable type."""
    justify(
        instance,
        guard={
            "ec2_instance_no_public_ip_check": NAT_PUBLIC_ADDRESS,
            "ec2_instance_nitro_encryption_in_transit_check": NAT_IN_TRANSIT,
            "ec2_instance_detailed_monitoring_enabled_check": NAT_MONITORING,
        },
    )
    return instance


ROTATOR_OUTSIDE_VPC = (
    "it calls only AWS APIs (Secrets Manager, ECS, CloudWatch Logs); the database work runs in "
    "the Fargate task it starts inside the VPC. In the VPC it would need the NAT or interface "
    "endpoints for each API, and its network interfaces slow the stack's delete"
)
ROTATOR_CONCURRENCY = (
    "Secrets Manager invokes it for one secret, one rotation step at a time, and does not start "
    "a rotation while one is in progress; reserved concurrency is taken from the account's pool"
)
ROTATOR_NO_DLQ = (
    "Secrets Manager calls it step by step and marks a rotation that fails on the secret, "
    "keeping the current version; a step's event in a dead-letter queue cannot be replayed alone"
)
ROTATOR_VARIABLES = (
    "its environment holds only names and ARNs (cluster, task definition, subnets, log group) "
    "and password-generation settings, no secret; Lambda encrypts it at rest with its AWS "
    "managed key"
)


def justify_rotator(function: R) -> R:
    """The rotation Lambda: AWS APIs only, invoked by Secrets Manager."""
    justify(
        function,
        checkov={
            "CKV_AWS_115": ROTATOR_CONCURRENCY,
            "CKV_AWS_116": ROTATOR_NO_DLQ,
            "CKV_AWS_117": ROTATOR_OUTSIDE_VPC,
            "CKV_AWS_173": ROTATOR_VARIABLES,
        },
        guard={"lambda_inside_vpc_check": ROTATOR_OUTSIDE_VPC},
    )
    return function


def justify_service_permission(permission: R, service: str, source: str) -> R:
    """A Lambda permission for one AWS service, bound to this account and one source by Refs
    that CT.LAMBDA.PR.2 cannot read."""
    justify(
        permission,
        guard={
            "lambda_function_public_access_prohibited_check": (
                f"only {service} may invoke it, and only for {source} of this account: "
                "SourceAccount and SourceArn are set, as Refs the Guard rule cannot read"
            )
        },
    )
    return permission
