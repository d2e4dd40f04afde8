"""`build/ENV/release.json`: the image digests `factorstack release` pushed, one per process.

The release writes it; the build reads it so that task definitions name `REPO@sha256:DIGEST`,
and what runs is exactly what was built. It survives rebuilds of the templates.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from factorstack.errors import ConfigError

RELEASE_FILE = "release.json"
DIGEST_PATTERN = re.compile(r"^sha256:[0-9a-f]{64}$")


@dataclass(frozen=True)
class ReleasedImage:
    process: str
    repository: str
    digest: str
    uri: str


@dataclass(frozen=True)
class Release:
    environment: str
    tag: str
    images: tuple[ReleasedImage, ...]

    def digests(self) -> dict[str, str]:
        return {image.process: image.digest for image in self.images}

    def to_json(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "tag": self.tag,
            "images": {
                image.process: {
                    "repository": image.repository,
                    "digest": image.digest,
                    "uri": image.uri,
                }
                for image in self.images
            },
        }


def write_release(folder: Path, release: Release) -> Path:
    """Write atomically: a half-written record would point tasks at the wrong images."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / RELEASE_FILE
    temporary = folder / f".{RELEASE_FILE}.tmp"
    temporary.write_text(json.dumps(release.to_json(), indent=2, sort_keys=True) + "\n")
    temporary.replace(target)
    return target


def read_release(folder: Path, processes: list[str]) -> Release | None:
    """The recorded release of build/ENV, or None when there is none; a broken record is a
    ConfigError."""
    path = folder / RELEASE_FILE
    shown_as = f"build/{folder.name}/{RELEASE_FILE}"
    if not path.is_file():
        return None
    fix = f"run `factorstack release {folder.name}` again"
    try:
        data = json.loads(path.read_text())
        images = data["images"]
        release = Release(
            environment=str(data["environment"]),
            tag=str(data["tag"]),
            images=tuple(
                ReleasedImage(name, str(i["repository"]), str(i["digest"]), str(i["uri"]))
                for name, i in sorted(images.items())
            ),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ConfigError(f"{shown_as}: not a release record ({fix})") from None
    for image in release.images:
        if not DIGEST_PATTERN.match(image.digest):
            raise ConfigError(f"{shown_as}: images.{image.process}.digest: not a sha256 ({fix})")
    missing = sorted(set(processes) - set(release.digests()))
    if missing:
        raise ConfigError(
            f"{shown_as}: images: no image for {', '.join(missing)} "
            f"(a process was added since the release; {fix})"
        )
    return release
