"""QR images of VietQR payloads (PNG, SVG, PDF) with segno, plus an in-process cache.

Always ``segno.make_qr(..., error="m")``: plain ``segno.make`` may pick a Micro QR for short input, which banking
apps cannot read. Mask selection dominates the cost, and an image is a pure function of its payload, so the
front ``qr_image`` caches by (payload, kind) and gives an ETag for long-lived HTTP caching.
"""

from __future__ import annotations

import hashlib
import io
from functools import lru_cache
from typing import Any

import segno

MAX_PAYLOAD_LEN = 512  # a VietQR payload is ~100-200 characters; anything far longer is not ours
CACHE_SIZE = 1024
MIMETYPES: dict[str, str] = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
}
# Bump when rendering parameters change so clients holding an old ETag refetch the new image.
RENDER_VERSION = "1"


def _check_payload(payload: str) -> None:
    if not isinstance(payload, str) or not payload:
        raise ValueError("payload must be a non-empty string")
    if len(payload) > MAX_PAYLOAD_LEN:
        raise ValueError(f"payload is {len(payload)} characters, at most {MAX_PAYLOAD_LEN}")


def _make(payload: str) -> segno.QRCode:
    """Validated full-size QR code (never Micro QR), error correction level M."""
    _check_payload(payload)
    return segno.make_qr(payload, error="m")


def _check_size(scale: int, border: int) -> None:
    if isinstance(scale, bool) or not isinstance(scale, int) or not 1 <= scale <= 64:
        raise ValueError(f"scale must be an integer from 1 to 64, got {scale!r}")
    if isinstance(border, bool) or not isinstance(border, int) or not 0 <= border <= 16:
        raise ValueError(f"border must be an integer from 0 to 16, got {border!r}")


def _save(payload: str, kind: str, scale: int, border: int, **extra: Any) -> bytes:
    _check_size(scale, border)
    qr = _make(payload)
    buf = io.BytesIO()
    qr.save(buf, kind=kind, scale=scale, border=border, **extra)
    return buf.getvalue()


def render_png(payload: str, scale: int = 8, border: int = 4) -> bytes:
    """PNG for screens; border 4 is the quiet zone the QR standard asks for."""
    return _save(payload, "png", scale, border)


def render_svg(payload: str, scale: int = 8, border: int = 4) -> bytes:
    """SVG for crisp printing and zooming; UTF-8 bytes with an XML declaration."""
    return _save(payload, "svg", scale, border, xmldecl=True, encoding="utf-8")


def render_pdf(payload: str, scale: int = 8, border: int = 4) -> bytes:
    """One-page PDF holding the QR (scale is points per module: ~14 cm wide at 8 for a typical payload)."""
    return _save(payload, "pdf", scale, border)


_RENDERERS = {"png": render_png, "svg": render_svg, "pdf": render_pdf}


def etag_for(payload: str, kind: str) -> str:
    """Quoted strong ETag: short sha256 over the render version, kind and payload."""
    digest = hashlib.sha256(f"{RENDER_VERSION}\x00{kind}\x00{payload}".encode("utf-8")).hexdigest()
    return f'"{digest[:20]}"'


def image_version(payload: str, kind: str) -> str:
    """The ``v`` query value that makes an image URL content-addressed (so immutable): the ETag, unquoted."""
    return etag_for(payload, kind).strip('"')


@lru_cache(maxsize=CACHE_SIZE)
def _cached(payload: str, kind: str) -> tuple[bytes, str, str]:
    return _RENDERERS[kind](payload), etag_for(payload, kind), MIMETYPES[kind]


def qr_image(payload: str, kind: str) -> tuple[bytes, str, str]:
    """(image bytes, quoted ETag, mimetype) with default size, from a bounded in-process LRU cache.

    Inputs are validated before the cache so that bad requests cannot fill it.
    """
    if kind not in _RENDERERS:
        raise ValueError(f"unknown image kind {kind!r}; expected one of {', '.join(_RENDERERS)}")
    _check_payload(payload)
    return _cached(payload, kind)


def cache_info() -> Any:
    """functools cache statistics of qr_image (hits, misses, maxsize, currsize)."""
    return _cached.cache_info()


def cache_clear() -> None:
    """Empty the image cache (tests and benchmarks)."""
    _cached.cache_clear()
