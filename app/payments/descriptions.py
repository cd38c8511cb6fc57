"""What a payment is for, in the reader's language.

An intent's ``description`` is stored once, in Vietnamese (the bank statement, the API and exports carry it as
written). A domain whose descriptions are its own words, not its users', registers how to say them for its
purpose; pages show ``describe(intent)``, translated at display time. Payments imports no domain.
"""

from __future__ import annotations

from collections.abc import Callable

_describers: dict[str, Callable[[object], str]] = {}


def register(purpose: str, describer: Callable[[object], str]) -> None:
    """``describer(intent)`` says what an intent of ``purpose`` is for, in the current locale."""
    _describers[purpose] = describer


def describe(intent) -> str:
    """The intent's description for the page being drawn: the domain's words translated, else as stored."""
    describer = _describers.get(intent.purpose)
    if describer is not None:
        try:
            return describer(intent)
        except (KeyError, TypeError):  # an intent made before its metadata carried what the describer reads
            pass
    return intent.description or ""
