"""A small, representative nested build written by the tests themselves.

Root with three children: NetworkStack (VPC, FlowLogsLogGroup) → its VpcId output flows through
the root (Fn::GetAtt NetworkStack.Outputs.VpcId) into DataStack (DatabaseSecret, Database) and
WebStack (WebLogGroup, a task definition whose cpu the tests change). Beside them, like every
build, the app's real bootstrap template (`factorstack bootstrap` deploys it).
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import boto3
from rich.console import Console

from factorstack.config import config_sha256
from factorstack.deploy.context import Context, Timing
from factorstack.stacks.bootstrap import create_template as bootstrap_template

ACCOUNT = "123456789012"  # moto's default account
REGION = "eu-west-1"


def _stack(url: str, parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    props: dict[str, Any] = {"TemplateURL": url}
    if parameters:
        props["Parameters"] = parameters
    return {"Type": "AWS::CloudFormation::Stack", "Properties": props}


ROOT: dict[str, Any] = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Parameters": {"ImageTag": {"Type": "String", "Default": "initial"}},
    "Resources": {
        "NetworkStack": _stack("network.json"),
        "DataStack": _stack(
            "data.json", {"VpcId": {"Fn::GetAtt": ["NetworkStack", "Outputs.VpcId"]}}
        ),
        "WebStack": _stack(
            "process-web.json",
            {
                "ImageTag": {"Ref": "ImageTag"},
                "DatabaseSecretArn": {"Fn::GetAtt": ["DataStack", "Outputs.DatabaseSecretArn"]},
            },
        ),
    },
    "Outputs": {
        "VpcId": {"Value": {"Fn::GetAtt": ["NetworkStack", "Outputs.VpcId"]}},
        "TaskDefinition": {"Value": {"Fn::GetAtt": ["WebStack", "Outputs.TaskDefinition"]}},
    },
}

NETWORK: dict[str, Any] = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Resources": {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.10.0.0/16"}},
        "FlowLogsLogGroup": {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"RetentionInDays": 7},
        },
    },
    "Outputs": {"VpcId": {"Value": {"Ref": "Vpc"}}},
}

DATA: dict[str, Any] = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Parameters": {"VpcId": {"Type": "String"}},
    "Resources": {
        "DatabaseSecret": {
            "Type": "AWS::SecretsManager::Secret",
            "Properties": {
                "GenerateSecretString": {
                    "SecretStringTemplate": '{"username": "app"}',
                    "GenerateStringKey": "password",
                }
            },
        },
        "Database": {
            "Type": "AWS::RDS::DBInstance",
            "DeletionPolicy": "Snapshot",
            "Properties": {
                "DBName": "example",
                "Engine": "mysql",
                "EngineVersion": "8.0.43",
                "DBInstanceClass": "db.t4g.micro",
                "AllocatedStorage": "20",
                "MasterUsername": "app",
                "MasterUserPassword": "not-a-real-password",
            },
        },
    },
    "Outputs": {
        "DatabaseSecretArn": {"Value": {"Ref": "DatabaseSecret"}},
        "DatabaseHost": {"Value": {"Fn::GetAtt": ["Database", "Endpoint.Address"]}},
    },
}

WEB: dict[str, Any] = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Parameters": {"ImageTag": {"Type": "String"}, "DatabaseSecretArn": {"Type": "String"}},
    "Resources": {
        "WebLogGroup": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 7}},
        "WebTaskDefinition": {
            "Type": "AWS::ECS::TaskDefinition",
            "Properties": {
                "Family": "example-dev-web",
                "Cpu": "256",
                "Memory": "512",
                "NetworkMode": "awsvpc",
                "RequiresCompatibilities": ["FARGATE"],
                "ContainerDefinitions": [
                    {
                        "Name": "web",
                        "Image": {"Fn::Sub": "example/web:${ImageTag}"},
                        "Secrets": [
                            {
                                "Name": "DB_PASSWORD",
                                "ValueFrom": {"Fn::Sub": "${DatabaseSecretArn}:password::"},
                            }
                        ],
                    }
                ],
            },
        },
    },
    "Outputs": {"TaskDefinition": {"Value": {"Ref": "WebTaskDefinition"}}},
}


class FixtureProject:
    """A repo root with app.yaml, environments/dev.yaml and a build/dev written like `make`."""

    def __init__(self, root: Path, environment: str = "dev") -> None:
        self.root = root
        self.environment = environment
        self.templates: dict[str, dict[str, Any]] = {
            "root.json": copy.deepcopy(ROOT),
            "network.json": copy.deepcopy(NETWORK),
            "data.json": copy.deepcopy(DATA),
            "process-web.json": copy.deepcopy(WEB),
            "bootstrap.json": bootstrap_template("example", ["web"]).to_dict(),
        }
        (root / "environments").mkdir(parents=True, exist_ok=True)
        (root / "app.yaml").write_text("app: example\n", encoding="utf-8")
        (root / "environments" / f"{environment}.yaml").write_text(
            f'account: "{ACCOUNT}"\nregion: {REGION}\n', encoding="utf-8"
        )

    @property
    def folder(self) -> Path:
        return self.root / "build" / self.environment

    def write(self) -> Path:
        """Write every template and a manifest that matches them."""
        self.folder.mkdir(parents=True, exist_ok=True)
        hashes = {}
        for name, template in self.templates.items():
            data = json.dumps(template, indent=2, sort_keys=True).encode()
            (self.folder / name).write_bytes(data)
            hashes[name] = hashlib.sha256(data).hexdigest()
        manifest = {
            "app": "example",
            "environment": self.environment,
            "stack_name": f"example-{self.environment}",
            "account": ACCOUNT,
            "region": REGION,
            "profile": None,
            "role_arn": None,
            "config_sha256": config_sha256(self.root, self.environment),
            "processes": ["web"],
            "templates": hashes,
            "linted_by": "cfn-lint (fixture)",
        }
        (self.folder / "manifest.json").write_text(json.dumps(manifest, indent=2))
        return self.folder

    def resources(self, name: str) -> dict[str, Any]:
        return self.templates[name]["Resources"]


def publish_image(repository: str, tag: str) -> str:
    """Put an image into the local ECR, as `docker push` would; returns its digest."""
    ecr = boto3.client("ecr", region_name=REGION)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "digest": "sha256:" + hashlib.sha256(f"{repository}:{tag}".encode()).hexdigest()
            },
            "layers": [],
        }
    )
    image = ecr.put_image(repositoryName=repository, imageManifest=manifest, imageTag=tag)
    return str(image["image"]["imageId"]["imageDigest"])


def seed_app(root: Path, environment: str = "dev") -> list[str]:
    """What `factorstack local-seed` does: placeholders for the app's parameters and secrets,
    so a plan of the sample app passes the account preflight on the local endpoint."""
    from factorstack.build.manifest import AwsTarget
    from factorstack.config import load_model
    from factorstack.deploy.local.seed import seed_placeholders, wanted_seeds

    model = load_model(root, environment).model
    return seed_placeholders(wanted_seeds(model), AwsTarget(model.account, model.region))


def publish_fixture_images(tag: str = "initial") -> None:
    """The fixture app's only process, at the tag its root template defaults to."""
    publish_image("example/web", tag)


FAST = Timing(timeout=60.0, poll=0.05)


def dev_context(root: Path) -> Context:
    """A deploy context for `dev` under root that records its output and polls fast."""
    return Context(
        root=root,
        environment="dev",
        console=Console(record=True, width=200),
        timing=FAST,
        change_set_timing=FAST,
    )
