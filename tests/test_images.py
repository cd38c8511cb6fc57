"""The core image pipeline (app/images.py): pictures are checked by their content, re-encoded within the sizes
asked for, and refused with a clear message otherwise."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app import images
from app.errors import ValidationError


def picture(width: int, height: int, kind: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "#8a5a2b").save(out, kind)
    return out.getvalue()


def test_a_picture_is_re_encoded_as_jpeg_within_the_default_sizes(app):
    with app.test_request_context():
        name, full, thumb = images.prepare(picture(3000, 1500))
    assert images.is_name(name)
    assert Image.open(io.BytesIO(full)).size == (images.FULL_SIZE, images.FULL_SIZE // 2)
    assert Image.open(io.BytesIO(thumb)).format == "JPEG"
    assert Image.open(io.BytesIO(thumb)).size == (images.THUMB_SIZE, images.THUMB_SIZE // 2)


def test_a_panorama_keeps_the_larger_size_it_asks_for(app):
    with app.test_request_context():
        _name, full, _thumb = images.prepare(picture(5000, 2500, "JPEG"), full_size=4096, thumb_size=800)
    assert Image.open(io.BytesIO(full)).size == (4096, 2048)


@pytest.mark.parametrize("data", [b"", b"%PDF-1.7 not a picture", b"GIF89a" + b"\0" * 40])
def test_what_is_not_a_jpeg_png_or_webp_picture_is_refused(app, data):
    with app.test_request_context(), pytest.raises(ValidationError) as refused:
        images.prepare(data)
    assert refused.value.field == "image"


def test_the_size_limit_is_named_in_the_message(app):
    with app.test_request_context(), pytest.raises(ValidationError) as refused:
        images.prepare(b"x" * (2 * 1024 * 1024 + 1), max_bytes=2 * 1024 * 1024)
    assert str(refused.value.message) == "The image is too large (2 MB at most)."
    with app.test_request_context(), pytest.raises(ValidationError) as refused:
        images.prepare(b"x" * (images.MAX_BYTES + 1))
    assert "5 MB" in str(refused.value.message)


def test_keys_are_per_area_tenant_and_owner():
    assert images.key("heritage", 3, "relic-12", "abc", "thumb") == "heritage/3/relic-12/abc-thumb.jpg"
    assert not images.is_name("../etc") and not images.is_name("") and not images.is_name("a" * 65)
