"""`releases/ENV.json`: the image digests `factorstack release` pushed, one per process.

The release writes it; the build reads it so that task definitions name `REPO@sha256:DIGEST`,
and what runs is exactly what was built. It is an input of the build, like app.yaml, so it
lives outside build/ (which each build replaces) and is part of the build's config hash.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from factorstack.errors import NotReady

RELEASES_DIR = "releases"
LEGACY_FILE = "release.json"  # where factorstack 0.1 kept it: build/ENV/release.json
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


def release_file(environment: str) -> str:
    """Where an environment's record lives, relative to the repo root (and as messages show it)."""
    return f"{RELEASES_DIR}/{environment}.json"


def write_release(root: Path, release: Release) -> Path:
    """Write atomically: a half-written record would point tasks at the wrong images."""
    target = root / release_file(release.environment)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.write_text(json.dumps(release.to_json(), indent=2, sort_keys=True) + "\n")
    temporary.replace(target)
    return target


def _refuse_legacy_record(root: Path, environment: str) -> None:
    """A record left in build/ENV by an older factorstack would vanish with the next build
    (the folder is replaced) and silently unpin the images: ask for it to be moved."""
    legacy = f"build/{environment}/{LEGACY_FILE}"
    if (root / legacy).is_file() and not (root / release_file(environment)).exists():
        raise NotReady(
            f"{legacy}: release records now live in {RELEASES_DIR}/ "
            f"(run `mkdir -p {RELEASES_DIR} && mv {legacy} {release_file(environment)}`)"
        )


def read_release(
    root: Path, environment: str, processes: list[str], *, every_process: bool = True
) -> Release | None:
    """The recorded release of an environment, or None when there is none; a broken record is
    NotReady (release again). `every_process=False` (the build) accepts a record without a
    process added since: that process renders unpinned, its repository reaches bootstrap, and
    the plan still refuses until a release records it."""
    _refuse_legacy_record(root, environment)
    shown_as = release_file(environment)
    path = root / shown_as
    if not path.is_file():
        return None
    fix = f"run `factorstack release {environment}` again"
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
        raise NotReady(f"{shown_as}: not a release record ({fix})") from None
    for image in release.images:
        if not DIGEST_PATTERN.match(image.digest):
            raise NotReady(f"{shown_as}: images.{image.process}.digest: not a sha256 ({fix})")
    missing = sorted(set(processes) - set(release.digests()))
    if missing and every_process:
        raise NotReady(
            f"{shown_as}: images: no image for {', '.join(missing)} (a process was added since "
            f"the release; run `factorstack bootstrap {environment}` for its repository, then "
            f"`factorstack release {environment}` and `make templates`)"
        )
    return release
