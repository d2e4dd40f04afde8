"""Packaging: upload templates under content-hash keys and point the root at them.

Keys are the SHA-256 of the bytes, so an unchanged child keeps its key (and CloudFormation sees
no change) and is never uploaded twice. The packaged root is uploaded too, because a root over
51,200 bytes cannot be sent inline.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from factorstack.build.manifest import REBUILD, sha256
from factorstack.deploy.aws.gateway import Gateway
from factorstack.deploy.decide.stacks import STACK_TYPE
from factorstack.errors import NotReady

KEY_PREFIX = "templates"


def url_suffix(region: str) -> str:
    """The partition's domain: China regions live under amazonaws.com.cn."""
    return "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"


def template_url(bucket: str, region: str, key: str) -> str:
    """The virtual-hosted S3 URL CloudFormation accepts as TemplateURL."""
    return f"https://{bucket}.s3.{region}.{url_suffix(region)}/{key}"


def content_key(data: bytes) -> str:
    """The artifact key of some template bytes."""
    return f"{KEY_PREFIX}/{sha256(data)}.json"


def dump_template(template: dict[str, Any]) -> bytes:
    """Stable bytes for a template, so equal templates hash equally."""
    return json.dumps(template, indent=1, sort_keys=True, ensure_ascii=False).encode("utf-8")


def nested_stacks(template: dict[str, Any]) -> dict[str, str]:
    """Logical id → TemplateURL of each nested stack in a template."""
    found: dict[str, str] = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        if isinstance(resource, dict) and resource.get("Type") == STACK_TYPE:
            url = (resource.get("Properties") or {}).get("TemplateURL")
            if isinstance(url, str):
                found[logical_id] = url
    return found


def is_local(url: str) -> bool:
    """A TemplateURL naming a file next to its parent, as `make templates` writes them."""
    return "://" not in url


@dataclass
class Packaged:
    """What packaging produced: the root's URL and the children by stack path."""

    root_url: str
    root_body: bytes
    uploaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    # stack path ("WebStack", "DataStack/Inner") → local file name, for the offline guard.
    children: dict[str, str] = field(default_factory=dict)


def read_template(path: Path) -> dict[str, Any]:
    """A built template as a dict, or a one-line error naming the file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotReady(f"{path}: template is missing ({REBUILD})") from None
    except ValueError as error:
        raise NotReady(f"{path}: not valid JSON: {error} ({REBUILD})") from None
    if not isinstance(data, dict):
        raise NotReady(f"{path}: template is not a JSON object ({REBUILD})")
    return data


class Packager:
    """Uploads one build's templates to the artifacts bucket."""

    def __init__(self, aws: Gateway, bucket: str, folder: Path) -> None:
        self.aws = aws
        self.bucket = bucket
        self.region = aws.region
        self.folder = folder
        self.uploaded: list[str] = []
        self.skipped: list[str] = []
        self.children: dict[str, str] = {}

    def upload(self, data: bytes) -> str:
        """Upload bytes under their content key unless present; return the URL."""
        key = content_key(data)
        if self.aws.upload_once(self.bucket, key, data):
            self.uploaded.append(key)
        else:
            self.skipped.append(key)
        return template_url(self.bucket, self.region, key)

    def rewrite(self, template: dict[str, Any], path_prefix: str) -> dict[str, Any]:
        """Upload every local child (depth first) and point its TemplateURL at S3."""
        for logical_id, url in sorted(nested_stacks(template).items()):
            if not is_local(url):
                continue
            stack_path = f"{path_prefix}{logical_id}"
            self.children[stack_path] = url
            child = self.rewrite(read_template(self.folder / url), f"{stack_path}/")
            remote = self.upload(dump_template(child))
            template["Resources"][logical_id]["Properties"]["TemplateURL"] = remote
        return template


def packaged_line(children: int, uploaded: int, skipped: int) -> str:
    """What packaging did, in counts that add up: every child and the root is either uploaded
    or already there."""
    nested = f"{children} nested template{'' if children == 1 else 's'}"
    return f"packaged {nested} and the root: {uploaded} uploaded, {skipped} already there"


def package(
    aws: Gateway,
    bucket: str,
    folder: Path,
    root_name: str = "root.json",
    echo: Callable[[str], None] = lambda _line: None,
) -> Packaged:
    """Upload the children and the packaged root of one build folder."""
    packager = Packager(aws, bucket, folder)
    root = packager.rewrite(read_template(folder / root_name), "")
    body = dump_template(root)
    root_url = packager.upload(body)
    echo(packaged_line(len(packager.children), len(packager.uploaded), len(packager.skipped)))
    return Packaged(
        root_url=root_url,
        root_body=body,
        uploaded=packager.uploaded,
        skipped=packager.skipped,
        children=packager.children,
    )
