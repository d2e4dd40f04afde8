"""ECR: whether an image is there (its digest), and the registry's login for `docker push`."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from factorstack.deploy.aws.session import Clients, aws_errors, error_code
from factorstack.deploy.decide.images import ImageRef

if TYPE_CHECKING:
    from mypy_boto3_ecr.type_defs import ImageIdentifierTypeDef

MISSING_CODES = frozenset({"ImageNotFoundException", "RepositoryNotFoundException"})


@dataclass(frozen=True)
class RegistryLogin:
    """Where to push and with what: ECR's authorization token, decoded."""

    registry: str  # the host, without a scheme
    user: str
    password: str


class ImageCalls:
    """The gateway's calls to ECR."""

    clients: Clients

    def image_digest(self, image: ImageRef) -> str | None:
        """The digest of an image in ECR, or None when it (or its repository) is not there."""
        image_id: ImageIdentifierTypeDef = (
            {"imageDigest": image.digest} if image.digest else {"imageTag": str(image.tag)}
        )
        with aws_errors(f"looking up image {image}"):
            try:
                details = self.clients.ecr.describe_images(
                    repositoryName=image.repository, imageIds=[image_id]
                )["imageDetails"]
            except ClientError as error:
                if error_code(error) in MISSING_CODES:
                    return None
                raise
        return str(details[0]["imageDigest"]) if details else None

    def registry_login(self) -> RegistryLogin:
        """The registry host and the user and password `docker login` takes."""
        with aws_errors("getting an ECR authorization token"):
            data = self.clients.ecr.get_authorization_token()["authorizationData"][0]
        user, password = base64.b64decode(data["authorizationToken"]).decode().split(":", 1)
        registry = str(data["proxyEndpoint"]).removeprefix("https://").removeprefix("http://")
        return RegistryLogin(registry, user, password)
