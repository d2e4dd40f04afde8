"""What sits around the load balancer in the cluster stack: the bucket its access logs go to,
and the optional AWS WAF web ACL in front of it.

The bucket has no fixed name and is kept when the stack lets go of it (Retain): a generated
name never blocks the next create. Access logs support SSE-S3 only (not SSE-KMS), so the bucket
encrypts with S3-managed keys.

Both are built from settings, so the cluster template is the same text in every environment:
the access logs' days, the region's log-writing account and the web ACL's rate limit (0: no
web ACL) arrive from the root.
"""

from __future__ import annotations

from awacs import s3 as s3_actions
from awacs.aws import (
    Allow,
    AWSPrincipal,
    Bool,
    Condition,
    Deny,
    PolicyDocument,
    Principal,
    Statement,
)
from troposphere import Equals, GetAtt, If, Join, Not, Ref, Sub, s3, wafv2
from troposphere import elasticloadbalancingv2 as elb

from factorstack.model import AppModel
from factorstack.stacks.policy import JOIN_FOR_GUARD, justify_access_log_bucket
from factorstack.stacks.wiring import ENVIRONMENT_NAME, ChildStack

ACCESS_LOG_PREFIX = "load-balancer"  # AWS adds AWSLogs/ACCOUNT/... after it
ELB_LOG_DELIVERY_SERVICE = "logdelivery.elasticloadbalancing.amazonaws.com"
# AWS managed rule groups (no subscription fee), in the order the web ACL evaluates them.
MANAGED_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
)
# The common rule set blocks request bodies over 8 KB, which refuses ordinary uploads and long
# forms; it only counts them here, the rest of the set blocks.
COUNTED_RULES = {"AWSManagedRulesCommonRuleSet": ("SizeRestrictions_BODY",)}
RATE_WINDOW_SECONDS = 300
RATE_LIMIT_RANGE = (10, 2_000_000_000)  # AWS WAF's RateBasedStatement Limit
# Settings and conditions (their names are what the root passes).
ACCESS_LOG_EXPIRATION_DAYS = "AccessLogExpirationDays"
LOG_WRITER_ACCOUNT = "LogWriterAccount"
HAS_LOG_WRITER_ACCOUNT = "HasLogWriterAccount"
WEB_ACL_RATE_LIMIT = "WebAclRateLimit"
HAS_WEB_ACL = "HasWebAcl"


NONCURRENT_DAYS = 1  # S3's smallest NoncurrentDays (a positive integer)


def current_days(retention_days: int) -> int:
    """Days a log stays current so that, with NONCURRENT_DAYS as a noncurrent version, it is
    deleted `retention_days` after it was written (ExpirationInDays is at least 1, so a
    one-day retention keeps logs two days)."""
    return max(retention_days - NONCURRENT_DAYS, 1)


def _log_writer(child: ChildStack, model: AppModel) -> If:
    """Who writes the access logs: the region's ELB account where it has one (the older
    regions), else the log-delivery service."""
    account = child.setting(
        LOG_WRITER_ACCOUNT,
        model.edge.log_writer_account or "",
        "The region's Elastic Load Balancing account; empty: the log-delivery service writes.",
        AllowedPattern=r"^(\d{12})?$",
    )
    has_account = child.condition(HAS_LOG_WRITER_ACCOUNT, Not(Equals(Ref(account), "")))
    return If(
        has_account,
        AWSPrincipal(Sub(f"arn:${{AWS::Partition}}:iam::${{{LOG_WRITER_ACCOUNT}}}:root")),
        Principal("Service", ELB_LOG_DELIVERY_SERVICE),
    )


def add_access_log_bucket(child: ChildStack, model: AppModel) -> tuple[s3.Bucket, s3.BucketPolicy]:
    """The access-log bucket and its policy; the load balancer must wait for the policy (ELB
    checks it can write when access logging is turned on)."""
    template = child.template
    days = child.setting(
        ACCESS_LOG_EXPIRATION_DAYS,
        current_days(model.edge.access_log_days),
        "Days an access log stays current; its noncurrent version goes a day later.",
        MinValue=1,  # S3 refuses a lifecycle rule of 0 days
    )
    bucket = template.add_resource(
        s3.Bucket(
            "AccessLogsBucket",
            # Retain even when a first create rolls back: by then ELB has written a test object,
            # and a bucket that is not empty cannot be deleted. It has no fixed name, so a bucket
            # left behind never blocks the next create.
            DeletionPolicy="Retain",
            UpdateReplacePolicy="Retain",
            BucketEncryption=s3.BucketEncryption(
                ServerSideEncryptionConfiguration=[
                    s3.ServerSideEncryptionRule(
                        ServerSideEncryptionByDefault=s3.ServerSideEncryptionByDefault(
                            SSEAlgorithm="AES256"
                        )
                    )
                ]
            ),
            PublicAccessBlockConfiguration=s3.PublicAccessBlockConfiguration(
                BlockPublicAcls=True,
                BlockPublicPolicy=True,
                IgnorePublicAcls=True,
                RestrictPublicBuckets=True,
            ),
            OwnershipControls=s3.OwnershipControls(
                Rules=[s3.OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]
            ),
            # Versions keep a deleted or overwritten log for a day. In a versioned bucket,
            # expiring a log only makes it noncurrent: it is gone for good once the
            # noncurrent expiration also passes, so the two add up to the retention.
            VersioningConfiguration=s3.VersioningConfiguration(Status="Enabled"),
            LifecycleConfiguration=s3.LifecycleConfiguration(
                Rules=[
                    s3.LifecycleRule(
                        Id="expire-access-logs",
                        Status="Enabled",
                        ExpirationInDays=Ref(days),
                        NoncurrentVersionExpiration=s3.NoncurrentVersionExpiration(
                            NoncurrentDays=NONCURRENT_DAYS
                        ),
                        AbortIncompleteMultipartUpload=s3.AbortIncompleteMultipartUpload(
                            DaysAfterInitiation=1
                        ),
                    )
                ]
            ),
        )
    )
    justify_access_log_bucket(bucket)
    bucket_arn = GetAtt(bucket, "Arn")
    principal = _log_writer(child, model)
    policy = template.add_resource(
        s3.BucketPolicy(
            "AccessLogsBucketPolicy",
            Metadata=JOIN_FOR_GUARD,
            Bucket=Ref(bucket),
            PolicyDocument=PolicyDocument(
                Statement=[
                    Statement(
                        Sid="ElbWritesAccessLogs",
                        Effect=Allow,
                        Principal=principal,
                        Action=[s3_actions.PutObject],
                        Resource=[
                            Sub(
                                f"${{{bucket.title}.Arn}}/{ACCESS_LOG_PREFIX}"
                                "/AWSLogs/${AWS::AccountId}/*"
                            )
                        ],
                    ),
                    Statement(
                        Sid="TlsOnly",
                        Effect=Deny,
                        Principal=Principal("*"),
                        Action=[s3_actions.Action("*")],
                        # A Join, not a Sub: the form Control Tower's CT.S3.PR.8 recognises.
                        Resource=[bucket_arn, Join("", [bucket_arn, "/*"])],
                        Condition=Condition(Bool("aws:SecureTransport", "false")),
                    ),
                ]
            ),
        )
    )
    return bucket, policy


def access_log_attributes(bucket: s3.Bucket) -> list[elb.LoadBalancerAttributes]:
    """The load balancer attributes that send its access logs to the bucket."""
    return [
        elb.LoadBalancerAttributes(Key="access_logs.s3.enabled", Value="true"),
        elb.LoadBalancerAttributes(Key="access_logs.s3.bucket", Value=Ref(bucket)),
        elb.LoadBalancerAttributes(Key="access_logs.s3.prefix", Value=ACCESS_LOG_PREFIX),
    ]


def _visibility(metric: str | Sub) -> wafv2.VisibilityConfig:
    return wafv2.VisibilityConfig(
        CloudWatchMetricsEnabled=True, SampledRequestsEnabled=True, MetricName=metric
    )


def _managed_rule(name: str, priority: int) -> wafv2.WebACLRule:
    overrides = [
        wafv2.RuleActionOverride(Name=rule, ActionToUse=wafv2.RuleAction(Count=wafv2.CountAction()))
        for rule in COUNTED_RULES.get(name, ())
    ]
    statement = wafv2.ManagedRuleGroupStatement(VendorName="AWS", Name=name)
    if overrides:
        statement.RuleActionOverrides = overrides
    return wafv2.WebACLRule(
        Name=name,
        Priority=priority,
        OverrideAction=wafv2.OverrideAction(**{"None": {}}),  # the group's own actions
        Statement=wafv2.Statement(ManagedRuleGroupStatement=statement),
        VisibilityConfig=_visibility(name),
    )


def _rate_limit(child: ChildStack, model: AppModel) -> tuple[str, Ref]:
    """The HasWebAcl condition and the per-IP limit (0 where the environment has no web ACL)."""
    low, high = RATE_LIMIT_RANGE
    limit = model.edge.waf_rate_limit
    rate = Ref(
        child.setting(
            WEB_ACL_RATE_LIMIT,
            0 if limit is None else limit,
            f"Requests per IP and 5 minutes before AWS WAF blocks ({low} or more); 0: no web ACL.",
            MinValue=0,
            MaxValue=high,
        )
    )
    return child.condition(HAS_WEB_ACL, Not(Equals(rate, "0"))), rate


def add_web_acl(child: ChildStack, model: AppModel, balancer: elb.LoadBalancer) -> None:
    """A regional web ACL on the load balancer where the environment asks for one (HasWebAcl):
    a per-IP rate limit first (cheapest to evaluate), then AWS's managed rule groups."""
    has_web_acl, limit = _rate_limit(child, model)
    child.environment_name()
    name = f"{model.app}-${{{ENVIRONMENT_NAME}}}"
    rate = wafv2.WebACLRule(
        Name="RateLimitPerIp",
        Priority=0,
        Action=wafv2.RuleAction(Block=wafv2.BlockAction()),
        Statement=wafv2.Statement(
            RateBasedStatement=wafv2.RateBasedStatement(
                AggregateKeyType="IP", Limit=limit, EvaluationWindowSec=RATE_WINDOW_SECONDS
            )
        ),
        VisibilityConfig=_visibility("RateLimitPerIp"),
    )
    acl = child.template.add_resource(
        wafv2.WebACL(
            "WebAcl",
            Condition=has_web_acl,
            Scope="REGIONAL",
            Description=Sub(f"{name}: AWS managed rules and a per-IP rate limit"),
            DefaultAction=wafv2.DefaultAction(Allow=wafv2.AllowAction()),
            Rules=[rate]
            + [_managed_rule(group, index + 1) for index, group in enumerate(MANAGED_RULE_GROUPS)],
            VisibilityConfig=_visibility(Sub(f"{name}-web-acl")),
        )
    )
    child.template.add_resource(
        wafv2.WebACLAssociation(
            "WebAclAssociation",
            Condition=has_web_acl,
            ResourceArn=Ref(balancer),
            WebACLArn=GetAtt(acl, "Arn"),
        )
    )
