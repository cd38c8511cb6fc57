"""The image pipeline of every upload that is a picture (product photos, relic photos, stele rubbings, panoramas):
checked by its content (Pillow must decode it as JPEG, PNG or WebP, whatever the file is called), size-limited,
re-encoded (which drops anything hidden in the file, EXIF included) and stored once with its thumbnail under a
content hash (app/storage.py), at ``<area>/<tenant id>/<owner>/<hash>-<size>.jpg``. Served only by the views of the
owning domain, which check who may see it.
"""

from __future__ import annotations

import functools
import hashlib
import io

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

from app import storage
from app.errors import ValidationError
from app.text import strip_diacritics

MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000  # decompression bombs are refused before decoding
MAX_IMAGES = 6  # a product's photos at most (the marketplace's rule; other domains set their own)
FULL_SIZE = 1200
THUMB_SIZE = 400
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
SIZES = ("full", "thumb")


def key(area: str, tenant_id: int, owner: int | str, name: str, size: str) -> str:
    """Where a picture is stored: ``area`` is the domain ("marketplace", "heritage"), ``owner`` the record it
    belongs to (a product id, "relic-12")."""
    return f"{area}/{tenant_id}/{owner}/{name}-{size}.jpg"


def is_name(name: str) -> bool:
    """Whether ``name`` can be a stored picture's name (a content hash): checked before any storage look-up."""
    return name.isascii() and name.isalnum() and 0 < len(name) <= 64


def _encode(image: Image.Image, box: int) -> bytes:
    copy = image.copy()
    copy.thumbnail((box, box), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    copy.save(out, "JPEG", quality=85, optimize=True, progressive=True)
    return out.getvalue()


def prepare(data: bytes, *, max_bytes: int = MAX_BYTES, full_size: int = FULL_SIZE,
            thumb_size: int = THUMB_SIZE) -> tuple[str, bytes, bytes]:
    """(name, full JPEG, thumbnail JPEG) of an upload; ValidationError (nothing stored) when it is not an image.
    ``full_size`` and ``thumb_size`` bound the longer side of the two copies (a panorama keeps more pixels)."""
    if not data:
        raise ValidationError(_l("Choose an image file."), field="image")
    if len(data) > max_bytes:
        raise ValidationError(_l("The image is too large (%(mb)s MB at most).", mb=max_bytes // (1024 * 1024)),
                              field="image")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ACCEPTED_FORMATS:
                raise ValidationError(_l("Upload a JPEG, PNG or WebP photo."), field="image")
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise ValidationError(_l("The image has too many pixels (40 megapixels at most)."), field="image")
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            image = ImageOps.exif_transpose(image).convert("RGB")
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError, SyntaxError):
        raise ValidationError(_l("This file is not a picture we can read. Upload a JPEG, PNG or WebP photo."),
                              field="image") from None
    full = _encode(image, full_size)
    thumb = _encode(image, thumb_size)
    return hashlib.sha256(full).hexdigest()[:24], full, thumb


def store(area: str, tenant_id: int, owner: int | str, name: str, full: bytes, thumb: bytes) -> None:
    storage.save(key(area, tenant_id, owner, name, "full"), full)
    storage.save(key(area, tenant_id, owner, name, "thumb"), thumb)


def remove(area: str, tenant_id: int, owner: int | str, name: str) -> None:
    for size in SIZES:
        storage.delete(key(area, tenant_id, owner, name, size))


def initials(name: str) -> str:
    """Two letters without marks ("Chanh đào" -> "CD"): the built-in font has no Vietnamese letters."""
    words = [w for w in strip_diacritics(name).split() if w[:1].isascii() and w[:1].isalpha()]
    return "".join(w[0] for w in words[:2]).upper() or "SP"


@functools.lru_cache(maxsize=4)
def font(size: int):
    """Pillow's built-in font at ``size`` pixels (no Vietnamese marks: write initials or plain Latin)."""
    return ImageFont.load_default(size=size)


def placeholder(name: str, color: str, size: int = 800) -> Image.Image:
    """An honest demo picture: the initials of a name on a colour (no photo pretends to be one)."""
    image = Image.new("RGB", (size, size), color)
    draw = ImageDraw.Draw(image)
    face = font(size // 3)
    text = initials(name)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=face)
    draw.text(((size - (right - left)) / 2 - left, (size - (bottom - top)) / 2 - top), text, fill="#ffffff",
              font=face)
    return image
