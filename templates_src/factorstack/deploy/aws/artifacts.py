"""The artifacts bucket (S3): packaged templates are uploaded there once, under content keys."""

from __future__ import annotations

from botocore.exceptions import ClientError

from factorstack.deploy.aws.session import Clients, aws_errors, error_code
from factorstack.errors import DeployError

# head_object has no body, so a missing key answers with its HTTP status.
MISSING_KEY_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
# Without s3:ListBucket, S3 answers a missing key with 403 instead of 404 (HeadObject reference).
FORBIDDEN_CODES = frozenset({"403", "Forbidden", "AccessDenied"})


def head_forbidden(bucket: str, key: str) -> DeployError:
    """The one line that names the rights an upload needs, the easily missed one first."""
    return DeployError(
        f"uploading s3://{bucket}/{key}: access denied; the deploying identity needs "
        f"s3:ListBucket on arn:aws:s3:::{bucket} (without it S3 answers 403 for a template "
        "not uploaded yet) and s3:GetObject and s3:PutObject on its objects"
    )


class ArtifactCalls:
    """The gateway's calls to the artifacts bucket."""

    clients: Clients

    def upload_once(self, bucket: str, key: str, body: bytes) -> bool:
        """Upload unless the key is there already (content keys never change); True when
        uploaded."""
        with aws_errors(f"uploading s3://{bucket}/{key}"):
            try:
                self.clients.s3.head_object(Bucket=bucket, Key=key)
                return False
            except ClientError as error:
                if error_code(error) in FORBIDDEN_CODES:
                    raise head_forbidden(bucket, key) from None
                if error_code(error) not in MISSING_KEY_CODES:
                    raise
            self.clients.s3.put_object(
                Bucket=bucket, Key=key, Body=body, ContentType="application/json"
            )
        return True
