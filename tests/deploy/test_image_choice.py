"""Which image each process runs, and the refusal when nothing chooses one (the sample's root has
no ImageTag default: before a release, a plan without --image-tag has no image to look up)."""

from __future__ import annotations

import pytest

from factorstack.deploy.decide.images import refuse_unchosen, wanted_images
from factorstack.errors import EXIT_USAGE, NotReady

DIGEST = "sha256:" + "a" * 64


def test_no_release_and_no_tag_is_refused_with_both_ways_to_choose() -> None:
    images = wanted_images("example", ["web", "worker"], None, None)
    with pytest.raises(NotReady) as refused:
        refuse_unchosen(images, "dev")
    assert refused.value.exit_code == EXIT_USAGE
    assert refused.value.lines == [
        "no image chosen for dev: run `factorstack release dev` (or pass --image-tag TAG)"
    ]


def test_a_tag_chooses_every_image() -> None:
    images = wanted_images("example", ["web", "worker"], None, "v1")
    refuse_unchosen(images, "dev")
    assert [str(image) for image in images] == ["example/web:v1", "example/worker:v1"]
