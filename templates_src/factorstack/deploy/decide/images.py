"""Which image each process runs, and the refusal of a plan whose images are not in ECR: a
deploy pointing at a missing image only fails after the circuit breaker gives up.
"""

from __future__ import annotations

from dataclasses import dataclass

from factorstack.errors import NotReady
from factorstack.model import repository_name
from factorstack.release_record import Release


@dataclass(frozen=True)
class ImageRef:
    process: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    def __str__(self) -> str:
        if self.digest:
            return f"{self.repository}@{self.digest}"
        return f"{self.repository}:{self.tag}"


def wanted_images(
    app: str, processes: list[str], release: Release | None, tag: str | None
) -> list[ImageRef]:
    """The recorded release's digests when there is one, else every process at `tag`."""
    if release is not None:
        digests = release.digests()
        return [ImageRef(p, repository_name(app, p), digest=digests[p]) for p in processes]
    return [ImageRef(p, repository_name(app, p), tag=tag) for p in processes]


def refuse_unchosen(images: list[ImageRef], environment: str) -> None:
    """Refuse (exit 2) when no release, no --image-tag and no deployed stack says which image
    runs: there is nothing to look up in ECR."""
    if any(image.tag is None and image.digest is None for image in images):
        raise NotReady(
            f"no image chosen for {environment}: run `factorstack release {environment}` "
            "(or pass --image-tag TAG)"
        )


def refuse_missing(missing: list[ImageRef], environment: str, registry: str) -> None:
    """Refuse (exit 2) before any change set when an image the stacks would run is missing."""
    if not missing:
        return
    tag = next((image.tag for image in missing if image.tag), None)
    publish = f"factorstack release {environment}" + (f" --tag {tag}" if tag else "")
    raise NotReady(
        *(
            f"image {image} is not in ECR ({registry}); publish it with `{publish}`"
            for image in missing
        )
    )
