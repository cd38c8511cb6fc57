"""What the domains built on vendors add to the vendor's own pages, filled from their packages (vendors import none
of them): the tabs of the bar at the bottom of the phone screen, and lines about the vendor on its profile."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Tab:
    endpoint: str
    label: object  # a lazy string: translated when the page is drawn
    testid: str
    order: int
    also: tuple[str, ...] = ()  # other endpoints on which this tab is the current one

    def is_current(self, endpoint: str | None) -> bool:
        return endpoint == self.endpoint or endpoint in self.also


_TABS: dict[str, Tab] = {}
_PROFILE_LINES: list[Callable] = []


def add_tab(endpoint: str, label, *, testid: str, order: int, also: tuple[str, ...] = ()) -> None:
    """A tab of the vendor's bar, placed by ``order`` (the market's sell and poster tabs come first)."""
    _TABS[endpoint] = Tab(endpoint, label, testid, order, also)


def tabs() -> list[Tab]:
    return sorted(_TABS.values(), key=lambda tab: tab.order)


def add_profile_lines(lines: Callable) -> None:
    """``lines(vendor) -> list[str]``: what a domain says about the vendor under its name (its stalls, say)."""
    _PROFILE_LINES.append(lines)


def profile_lines(vendor) -> list[str]:
    return [line for lines in _PROFILE_LINES for line in lines(vendor)]
