"""The artifacts bucket (S3): packaged templates are uploaded there once, under content keys."""

from __future__ import annotations

from botocore.exceptions import ClientError

from factorstack.deploy.aws.session import Clients, aws_errors, error_code

# head_object has no body, so a missing key answers with its HTTP status.
MISSING_KEY_CODES = frozenset({"404", "NoSuchKey", "NotFound"})


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
                if error_code(error) not in MISSING_KEY_CODES:
                    raise
            self.clients.s3.put_object(
                Bucket=bucket, Key=key, Body=body, ContentType="application/json"
            )
        return True
