"""Registry of Vietnamese banks by NAPAS BIN (acquirer id), loaded once from app/data/vietqr_banks.json.

Keyed on ``bin`` because bank codes differ between public lists while the BIN is what goes into the QR payload.
A few BINs are shared by a bank and its renamed successor: the lookup prefers the entry not marked deprecated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "vietqr_banks.json"


@dataclass(frozen=True, slots=True)
class Bank:
    """One bank entry; immutable so it can be shared freely across requests and threads."""

    bin: str
    code: str
    short_name: str
    name: str
    deprecated: bool = False


@cache
def _entries() -> tuple[Bank, ...]:
    """All entries in file order, read once per process."""
    raw = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return tuple(
        Bank(
            bin=str(item["bin"]),
            code=str(item["code"]),
            short_name=str(item["short_name"]),
            name=str(item["name"]),
            deprecated=bool(item.get("deprecated", False)),
        )
        for item in raw
    )


@cache
def _by_bin() -> dict[str, Bank]:
    """BIN -> preferred bank: a current entry wins over a deprecated one; otherwise the first in the file."""
    index: dict[str, Bank] = {}
    for bank in _entries():
        current = index.get(bank.bin)
        if current is None or (current.deprecated and not bank.deprecated):
            index[bank.bin] = bank
    return index


def get_bank(bin: str) -> Bank | None:  # noqa: A002 - "bin" is the domain name of the field
    """The bank for a BIN, or None when the BIN is unknown (or not a string)."""
    if not isinstance(bin, str):
        return None
    return _by_bin().get(bin)


def is_known_bin(bin: str) -> bool:  # noqa: A002
    """True when the BIN belongs to a bank in the registry; encode() refuses unknown BINs."""
    return get_bank(bin) is not None


def all_banks(include_deprecated: bool = False) -> list[Bank]:
    """Entries for a bank picker, sorted by short name; deprecated (renamed) banks only on request."""
    banks = [b for b in _entries() if include_deprecated or not b.deprecated]
    return sorted(banks, key=lambda b: (b.short_name.casefold(), b.bin, b.code))


def _key(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


@cache
def _by_name() -> dict[str, str]:
    """Folded code and short name -> BIN ("VCB", "Vietcombank", "vietcombank" -> 970436); ambiguous names dropped."""
    index: dict[str, set[str]] = {}
    for bank in _entries():
        for name in (bank.code, bank.short_name, bank.bin):
            index.setdefault(_key(name), set()).add(bank.bin)
    return {name: bins.pop() for name, bins in index.items() if len(bins) == 1 and name}


def bin_for(name: str | None) -> str | None:
    """The BIN a notification means by its bank name, code or BIN ("Vietcombank", "VCB", "970436"), or None."""
    if not isinstance(name, str) or not name.strip():
        return None
    return _by_name().get(_key(name))
