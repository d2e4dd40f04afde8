"""The bootstrap stack: one per app, account and region, created before the first deploy.

It holds what every environment's deploy needs to exist already: the artifacts bucket the
packaged templates are uploaded to, and one ECR repository per process type.
"""

from __future__ import annotations

import json

from awacs.aws import Bool as BoolCondition
from awacs.aws import Condition, Deny, PolicyDocument, Principal, Statement
from awacs.s3 import Action as S3Action
from troposphere import GetAtt, Output, Ref, Sub, Tags, Template
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

BUCKET_OUTPUT = "ArtifactsBucketName"
NONCURRENT_DAYS = 30
KEEP_IMAGES = 30


def repository_logical_id(process: str) -> str:
    """`WebRepository` for `web`; stable, because it is part of the stack's contract."""
    return f"{logical_name(process)}Repository"


def add_artifacts_bucket(template: Template, app: str) -> Bucket:
    """Encrypted, private, owner-enforced, versioned; old versions expire."""
    return template.add_resource(
        Bucket(
            "ArtifactsBucket",
            DeletionPolicy="Retain",
            UpdateReplacePolicy="Retain",
            BucketEncryption=BucketEncryption(
                ServerSideEncryptionConfiguration=[
                    ServerSideEncryptionRule(
                        ServerSideEncryptionByDefault=ServerSideEncryptionByDefault(
                            SSEAlgorithm="AES256"
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


def add_tls_only_policy(template: Template, bucket: Bucket) -> BucketPolicy:
    """Deny every request that does not use TLS."""
    bucket_arn = GetAtt(bucket, "Arn")
    objects_arn = Sub(f"${{{bucket.title}.Arn}}/*")
    return template.add_resource(
        BucketPolicy(
            "ArtifactsBucketPolicy",
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
                        Condition=Condition(BoolCondition("aws:SecureTransport", False)),
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
    return template.add_resource(
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


def create_template(
    app: str, processes: list[str] | tuple[str, ...], keep_images: int = KEEP_IMAGES
) -> Template:
    """The bootstrap template: bucket, its TLS-only policy, one repository per process."""
    template = Template(Description=f"factorstack bootstrap for {app}: artifacts bucket and ECR")
    bucket = add_artifacts_bucket(template, app)
    add_tls_only_policy(template, bucket)
    for process in processes:
        repository = add_repository(template, app, process, keep_images)
        template.add_output(
            Output(
                f"{repository.title}Uri",
                Description=f"ECR repository of the {process} process",
                Value=GetAtt(repository, "RepositoryUri"),
            )
        )
    template.add_output(
        Output(BUCKET_OUTPUT, Description="Bucket for packaged templates", Value=Ref(bucket))
    )
    return template
