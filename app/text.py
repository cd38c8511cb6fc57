"""Vietnamese text helpers: normalisation on input and diacritic folding for search and bank memos."""

import unicodedata

_D_MAP = str.maketrans({"đ": "d", "Đ": "D"})


def normalize(text: str | None) -> str:
    """NFC-normalise and strip user input (every stored text goes through this)."""
    if text is None:
        return ""
    return unicodedata.normalize("NFC", text).strip()


def strip_diacritics(text: str) -> str:
    """Remove Vietnamese diacritics keeping case: "Đường Bát Tràng" -> "Duong Bat Trang".

    đ/Đ have no Unicode decomposition, so they are mapped explicitly before NFD.
    """
    text = unicodedata.normalize("NFC", text).translate(_D_MAP)
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str | None) -> str:
    """Search key: no diacritics, casefolded, whitespace collapsed. "Bát Tràng" -> "bat trang"."""
    if not text:
        return ""
    return " ".join(strip_diacritics(text).casefold().split())


def slugify(text: str) -> str:
    """ASCII slug from Vietnamese text: "Thị trấn Yên Viên" -> "thi-tran-yen-vien"."""
    out = []
    for ch in fold(text):
        out.append(ch if ch.isascii() and ch.isalnum() else "-")
    return "-".join(part for part in "".join(out).split("-") if part)
