"""Product images: checked by their content (Pillow must decode them as JPEG, PNG or WebP, whatever the file is
called), size-limited, re-encoded (which drops anything hidden in the file, EXIF included) and stored once with
their thumbnail under a content hash (app/storage.py). Served only by marketplace views that check the product.
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
MAX_IMAGES = 6
FULL_SIZE = 1200
THUMB_SIZE = 400
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
SIZES = ("full", "thumb")


def key(tenant_id: int, product_id: int, name: str, size: str) -> str:
    return f"marketplace/{tenant_id}/{product_id}/{name}-{size}.jpg"


def _encode(image: Image.Image, box: int) -> bytes:
    copy = image.copy()
    copy.thumbnail((box, box), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    copy.save(out, "JPEG", quality=85, optimize=True, progressive=True)
    return out.getvalue()


def prepare(data: bytes) -> tuple[str, bytes, bytes]:
    """(name, full JPEG, thumbnail JPEG) of an upload; ValidationError (nothing stored) when it is not an image."""
    if not data:
        raise ValidationError(_l("Choose an image file."), field="image")
    if len(data) > MAX_BYTES:
        raise ValidationError(_l("The image is too large (5 MB at most)."), field="image")
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
    full = _encode(image, FULL_SIZE)
    thumb = _encode(image, THUMB_SIZE)
    return hashlib.sha256(full).hexdigest()[:24], full, thumb


def store(tenant_id: int, product_id: int, name: str, full: bytes, thumb: bytes) -> None:
    storage.save(key(tenant_id, product_id, name, "full"), full)
    storage.save(key(tenant_id, product_id, name, "thumb"), thumb)


def remove(tenant_id: int, product_id: int, name: str) -> None:
    for size in SIZES:
        storage.delete(key(tenant_id, product_id, name, size))


def initials(name: str) -> str:
    """Two letters without marks ("Chanh đào" -> "CD"): the built-in font has no Vietnamese letters."""
    words = [w for w in strip_diacritics(name).split() if w[:1].isascii() and w[:1].isalpha()]
    return "".join(w[0] for w in words[:2]).upper() or "SP"


@functools.lru_cache(maxsize=4)
def _font(size: int):
    return ImageFont.load_default(size=size)


def placeholder(name: str, color: str, size: int = 800) -> Image.Image:
    """An honest demo picture: the product's initials on its category's colour (no photo pretends to be one)."""
    image = Image.new("RGB", (size, size), color)
    draw = ImageDraw.Draw(image)
    font = _font(size // 3)
    text = initials(name)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    draw.text(((size - (right - left)) / 2 - left, (size - (bottom - top)) / 2 - top), text, fill="#ffffff",
              font=font)
    return image
