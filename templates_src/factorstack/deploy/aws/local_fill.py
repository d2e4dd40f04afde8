"""Writes that only the local-* helpers make, and only to a local endpoint (deploy/local/ checks
AWS_ENDPOINT_URL first): placeholder images, SSM parameters and secrets.

Each call takes `doing`, the helper's own words for what it does, so a failure reads as the
helper's one line.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from factorstack.deploy.aws.session import Clients, aws_errors, error_code


class LocalFillCalls:
    """The gateway's calls that fill a local endpoint."""

    clients: Clients

    def put_image_manifest(
        self, repository: str, tag: str, manifest: str, doing: str
    ) -> str | None:
        """Put a manifest under `tag` (again: the one there is kept); its digest, or None when
        the repository does not exist."""
        ecr = self.clients.ecr
        with aws_errors(doing):
            try:
                image = ecr.put_image(
                    repositoryName=repository, imageManifest=manifest, imageTag=tag
                )
                return str(image["image"]["imageId"]["imageDigest"])
            except ClientError as error:
                if error_code(error) == "RepositoryNotFoundException":
                    return None
                if error_code(error) != "ImageAlreadyExistsException":
                    raise
            found = ecr.batch_get_image(repositoryName=repository, imageIds=[{"imageTag": tag}])
            return str(found["images"][0]["imageId"]["imageDigest"])

    def put_parameter_once(self, name: str, value: str, doing: str) -> bool:
        """Create a String parameter unless it exists; True when created."""
        with aws_errors(doing):
            try:
                self.clients.ssm.put_parameter(
                    Name=name, Value=value, Type="String", Overwrite=False
                )
            except ClientError as error:
                if error_code(error) == "ParameterAlreadyExists":
                    return False
                raise
        return True

    def secret_string(self, name: str, doing: str) -> tuple[bool, str | None]:
        """(whether the secret exists, its current SecretString if it has one)."""
        with aws_errors(doing):
            try:
                value = self.clients.secretsmanager.get_secret_value(SecretId=name)
            except ClientError as error:
                if error_code(error) == "ResourceNotFoundException":
                    return False, None
                raise
        return True, value.get("SecretString")

    def create_secret(self, name: str, text: str, doing: str) -> None:
        with aws_errors(doing):
            self.clients.secretsmanager.create_secret(Name=name, SecretString=text)

    def put_secret_string(self, name: str, text: str, doing: str) -> None:
        with aws_errors(doing):
            self.clients.secretsmanager.put_secret_value(SecretId=name, SecretString=text)
