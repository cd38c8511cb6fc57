"""Vietnamese text helpers: normalisation on input and diacritic folding for search and bank memos."""

import re
import unicodedata

_D_MAP = str.maketrans({"đ": "d", "Đ": "D"})
# Control characters (Unicode category Cc: C0, DEL, C1) other than tab, line feed and carriage return, which a
# textarea sends. NUL above all: PostgreSQL refuses it in text ("A string literal cannot contain NUL"), SQLite
# stores it, and no user types one. Every request's fields and file names are checked (app/bounds.py); the
# normaliser below removes them from whatever reaches a service another way (imports, commands).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def has_control_characters(text: str) -> bool:
    return _CONTROL.search(text) is not None


def without_control_characters(text: str) -> str:
    return _CONTROL.sub("", text)


def normalize(text: str | None) -> str:
    """NFC-normalise, drop control characters and strip user input (every stored text goes through this)."""
    if text is None:
        return ""
    return without_control_characters(unicodedata.normalize("NFC", text)).strip()


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


_PHONE_SEPARATORS = re.compile(r"[\s.\-()]")
_VN_PHONE = re.compile(r"^0\d{9}$")


def clean_phone(phone: str | None) -> str:
    """A Vietnamese phone number written one way: "+84 912.345.678", "84912345678" and "0912-345-678" are all
    "0912345678". The one rule for the marketplace's buyers and for signing in by phone (#19)."""
    digits = _PHONE_SEPARATORS.sub("", normalize(None if phone is None else str(phone)))
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    return digits


def mobile_number(phone: str | None) -> str | None:
    """``phone`` as ``clean_phone`` writes it if it is a Vietnamese number of ten digits, else None."""
    digits = clean_phone(phone)
    return digits if _VN_PHONE.match(digits) else None


# A Vietnamese tax code (mã số thuế, Circular 105/2020/TT-BTC): 10 digits for an enterprise, a household business
# or a public body; a branch or dependent unit adds 3 digits, written after a hyphen. docs/decisions.md, "One tax
# code rule".
_TAX_CODE = re.compile(r"^(\d{10})(?:-?(\d{3}))?$")


def clean_tax_code(value: str | None, *, required: bool = False) -> str | None:
    """The one tax-code rule: ``None`` for nothing given (refused when ``required``); 10 digits, or 10 + "-" + 3 as stored. Spaces and dots are
    dropped, and 13 digits typed without the hyphen are accepted and stored with it ("0101234567001" ->
    "0101234567-001"). Anything else raises ``ValidationError`` on the field ``tax_code``."""
    from flask_babel import lazy_gettext as _l

    from app.errors import ValidationError

    text = re.sub(r"[\s.]", "", normalize(value))
    if not text and not required:
        return None
    found = _TAX_CODE.match(text)
    if found is None:
        raise ValidationError(_l("A tax code has 10 digits, or 10 digits, a hyphen and 3 digits."), field="tax_code")
    return found.group(1) + (f"-{found.group(2)}" if found.group(2) else "")
