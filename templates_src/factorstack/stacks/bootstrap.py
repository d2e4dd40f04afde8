"""The bootstrap stack: one per app, account and region, created before the first deploy.

It holds what every environment's deploy needs to exist already: the artifacts bucket the
packaged templates are uploaded to, and one ECR repository per process type. An app with many
process types outgrows the 51,200 bytes CloudFormation takes inline; its first bootstrap then
creates the stack from `create_bucket_template` (the same bucket resources, nothing else) and
updates it to the full template read from that bucket.
"""

from __future__ import annotations

import json

from awacs.aws import Bool as BoolCondition
from awacs.aws import Condition, Deny, PolicyDocument, Principal, Statement
from awacs.s3 import Action as S3Action
from troposphere import GetAtt, Join, Output, Ref, Tags, Template
from troposphere.ecr import ImageScanningConfiguration, LifecyclePolicy, Repository
from troposphere.s3 import (
    AbortIncompleteMultipartUpload,
    Bucket,
    BucketEncryption,
    BucketPolicy,
    LifecycleConfiguration,
    LifecycleRule,
    NoncurrentVersionExpiration,
    OwnershipControls,
    OwnershipControlsRule,
    PublicAccessBlockConfiguration,
    ServerSideEncryptionByDefault,
    ServerSideEncryptionRule,
    VersioningConfiguration,
)

from factorstack.model import logical_name, repository_name
from factorstack.stacks.common import justify
from factorstack.stacks.policy import JOIN_FOR_GUARD, justify_log_bucket

BUCKET_OUTPUT = "ArtifactsBucketName"
NONCURRENT_DAYS = 30
KEEP_IMAGES = 30
# The AWS managed key aws/s3: no key policy to keep, and every principal of the account that may
# use the bucket may use the key through S3 (CloudFormation reading a nested template included).
SSE_ALGORITHM = "aws:kms"
REPOSITORY_ENCRYPTION = (
    "encrypted at rest by ECR with AES-256; images hold no secrets (tasks read them from Secrets "
    "Manager and SSM at start); EncryptionConfiguration is create-only, so KMS would replace the "
    "repository and lose its images"
)


def repository_logical_id(process: str) -> str:
    """`WebRepository` for `web`; stable, because it is part of the stack's contract."""
    return f"{logical_name(process)}Repository"


def add_artifacts_bucket(template: Template, app: str) -> Bucket:
    """Encrypted (SSE-KMS with aws/s3; the bucket key keeps KMS calls few), private,
    owner-enforced, versioned; old versions expire."""
    bucket = template.add_resource(
        Bucket(
            "ArtifactsBucket",
            DeletionPolicy="Retain",
            UpdateReplacePolicy="Retain",
            BucketEncryption=BucketEncryption(
                ServerSideEncryptionConfiguration=[
                    ServerSideEncryptionRule(
                        ServerSideEncryptionByDefault=ServerSideEncryptionByDefault(
                            SSEAlgorithm=SSE_ALGORITHM
                        ),
                        BucketKeyEnabled=True,
                    )
                ]
            ),
            PublicAccessBlockConfiguration=PublicAccessBlockConfiguration(
                BlockPublicAcls=True,
                BlockPublicPolicy=True,
                IgnorePublicAcls=True,
                RestrictPublicBuckets=True,
            ),
            OwnershipControls=OwnershipControls(
                Rules=[OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]
            ),
            VersioningConfiguration=VersioningConfiguration(Status="Enabled"),
            LifecycleConfiguration=LifecycleConfiguration(
                Rules=[
                    LifecycleRule(
                        Id="ExpireOldVersions",
                        Status="Enabled",
                        NoncurrentVersionExpiration=NoncurrentVersionExpiration(
                            NoncurrentDays=NONCURRENT_DAYS
                        ),
                        AbortIncompleteMultipartUpload=AbortIncompleteMultipartUpload(
                            DaysAfterInitiation=7
                        ),
                    )
                ]
            ),
            Tags=Tags(app=app, purpose="factorstack-artifacts"),
        )
    )
    justify_log_bucket(
        bucket,
        "the packaged templates deploy uploads and CloudFormation reads",
        f"old versions expire after {NONCURRENT_DAYS} days",
    )
    return bucket


def add_tls_only_policy(template: Template, bucket: Bucket) -> BucketPolicy:
    """Deny every request that does not use TLS. Written the way Control Tower's CT.S3.PR.8
    recognises: the condition value the string "false", the objects' ARN a Join on the bucket's
    Arn (it does not read a Sub)."""
    bucket_arn = GetAtt(bucket, "Arn")
    objects_arn = Join("", [bucket_arn, "/*"])
    return template.add_resource(
        BucketPolicy(
            "ArtifactsBucketPolicy",
            Metadata=JOIN_FOR_GUARD,
            Bucket=Ref(bucket),
            PolicyDocument=PolicyDocument(
                Version="2012-10-17",
                Statement=[
                    Statement(
                        Sid="DenyInsecureTransport",
                        Effect=Deny,
                        Principal=Principal("*"),
                        Action=[S3Action("*")],
                        Resource=[bucket_arn, objects_arn],
                        Condition=Condition(BoolCondition("aws:SecureTransport", "false")),
                    )
                ],
            ),
        )
    )


def lifecycle_policy_text(keep: int) -> str:
    """ECR lifecycle policy keeping the last `keep` images."""
    rule = {
        "rulePriority": 1,
        "description": f"keep the last {keep} images",
        "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep},
        "action": {"type": "expire"},
    }
    return json.dumps({"rules": [rule]}, sort_keys=True)


def add_repository(template: Template, app: str, process: str, keep: int) -> Repository:
    """`APP/PROCESS`: immutable tags, scanned on push, only the last images kept."""
    repository = template.add_resource(
        Repository(
            repository_logical_id(process),
            DeletionPolicy="Retain",
            UpdateReplacePolicy="Retain",
            RepositoryName=repository_name(app, process),
            ImageTagMutability="IMMUTABLE",
            ImageScanningConfiguration=ImageScanningConfiguration(ScanOnPush=True),
            LifecyclePolicy=LifecyclePolicy(LifecyclePolicyText=lifecycle_policy_text(keep)),
            Tags=Tags(app=app, process=process),
        )
    )
    justify(repository, checkov={"CKV_AWS_136": REPOSITORY_ENCRYPTION})
    return repository


def add_bucket_and_output(template: Template, app: str) -> Bucket:
    """The artifacts bucket, its policy and the output naming it: the same resources in the full
    template and the bucket-only one, so going from one to the other never touches the bucket."""
    bucket = add_artifacts_bucket(template, app)
    add_tls_only_policy(template, bucket)
    template.add_output(
        Output(BUCKET_OUTPUT, Description="Bucket for packaged templates", Value=Ref(bucket))
    )
    return bucket


def create_bucket_template(app: str) -> Template:
    """The first step of a first bootstrap whose full template is too large to send inline: the
    bucket alone, small enough for TemplateBody; the full template then comes from the bucket."""
    template = Template(
        Description=f"factorstack bootstrap for {app}: artifacts bucket (first step; ECR follows)"
    )
    add_bucket_and_output(template, app)
    return template


def create_template(
    app: str, processes: list[str] | tuple[str, ...], keep_images: int = KEEP_IMAGES
) -> Template:
    """The bootstrap template: bucket, its TLS-only policy, one repository per process."""
    template = Template(Description=f"factorstack bootstrap for {app}: artifacts bucket and ECR")
    add_bucket_and_output(template, app)
    for process in processes:
        repository = add_repository(template, app, process, keep_images)
        template.add_output(
            Output(
                f"{repository.title}Uri",
                Description=f"ECR repository of the {process} process",
                Value=GetAtt(repository, "RepositoryUri"),
            )
        )
    return template
