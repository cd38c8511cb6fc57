"""SMS text within the brand-name rules: without diacritics (most brand-name templates are registered unaccented;
the same folding as the search, app.text) and within a number of segments. GSM-7 is 160 characters in one segment,
153 a segment when concatenated; UCS-2 (with diacritics) 70 and 67."""

from __future__ import annotations

import math

from app.text import strip_diacritics

# The GSM 03.38 basic set (the extension characters count two).
_GSM = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
           "¿abcdefghijklmnopqrstuvwxyzäöñüà")
_GSM_EXT = set("^{}\\[~]|€")
MAX_SEGMENTS = 3


def unaccented(text: str) -> str:
    """"Hồ sơ đã có kết quả" -> "Ho so da co ket qua"; anything left outside GSM-7 becomes "?"."""
    folded = strip_diacritics(text).replace("đ", "d").replace("Đ", "D")
    return "".join(ch if ch in _GSM or ch in _GSM_EXT else "?" for ch in folded)


def is_gsm(text: str) -> bool:
    return all(ch in _GSM or ch in _GSM_EXT for ch in text)


def length(text: str) -> int:
    return sum(2 if ch in _GSM_EXT else 1 for ch in text) if is_gsm(text) else len(text)


def segments(text: str) -> int:
    size = length(text)
    single, multi = (160, 153) if is_gsm(text) else (70, 67)
    return 1 if size <= single else math.ceil(size / multi)


def fit(text: str, max_segments: int = MAX_SEGMENTS) -> str:
    """Unaccented and cut (with "...") to at most ``max_segments`` segments."""
    return cut(text, 160 if max_segments == 1 else 153 * max_segments)


def budget(max_segments: int = MAX_SEGMENTS) -> int:
    return 160 if max_segments == 1 else 153 * max_segments


def cut(text: str, limit: int) -> str:
    """Unaccented and cut (with "...") to at most ``limit`` GSM-7 characters."""
    text = unaccented(text)
    if length(text) <= limit:
        return text
    out = []
    for ch in text:
        if length("".join(out) + ch) > limit - 3:
            break
        out.append(ch)
    return "".join(out).rstrip() + "..."
