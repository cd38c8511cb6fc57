"""What the domains built on vendors add to the vendor's own pages, filled from their packages (vendors import none
of them): the tabs of the bar at the bottom of the phone screen, lines about the vendor on its profile, and what a
payment was for (a sale, an order) on the transfers page."""

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
    who: str = "all"  # "market": market vendors' only; "shop": the marketplace producers' only (#19 item 3)

    def is_current(self, endpoint: str | None) -> bool:
        return endpoint == self.endpoint or endpoint in self.also


_TABS: dict[str, Tab] = {}
_PROFILE_LINES: list[Callable] = []
_PAYMENT_LINKS: list[Callable] = []


WHO = ("all", "market", "shop")


def add_tab(endpoint: str, label, *, testid: str, order: int, also: tuple[str, ...] = (), who: str = "all") -> None:
    """A tab of the vendor's bar, placed by ``order`` (the market's sell and poster tabs come first), shown to
    every vendor, to market vendors only (``who="market"``) or to the marketplace's producers only (``"shop"``)."""
    assert who in WHO, who
    _TABS[endpoint] = Tab(endpoint, label, testid, order, also, who)


def tabs(at_market: bool | None = None) -> list[Tab]:
    """The tabs of a market vendor (``at_market`` True) or of a producer (False); all of them when not known."""
    hidden = {True: "shop", False: "market"}.get(at_market)
    return sorted((tab for tab in _TABS.values() if tab.who != hidden), key=lambda tab: tab.order)


def home_endpoint(at_market: bool) -> str:
    """Where this vendor lands after signing in: its first tab (a stallholder sells, a producer sees its shop)."""
    return tabs(at_market)[0].endpoint


def add_profile_lines(lines: Callable) -> None:
    """``lines(vendor) -> list[str]``: what a domain says about the vendor under its name (its stalls, say)."""
    _PROFILE_LINES.append(lines)


def profile_lines(vendor) -> list[str]:
    return [line for lines in _PROFILE_LINES for line in lines(vendor)]


def add_payment_links(links: Callable) -> None:
    """``links(intent_ids) -> {intent_id: (label, url)}``: what each of a domain's payments was for, in the vendor's
    words ("Sale of 50.000 ₫ at 07:42"), and the page that shows it; one query for all the ids."""
    _PAYMENT_LINKS.append(links)


def payment_links(intent_ids: list[int]) -> dict[int, tuple[str, str]]:
    ids = [i for i in intent_ids if i is not None]
    found: dict[int, tuple[str, str]] = {}
    for links in _PAYMENT_LINKS if ids else ():
        found.update(links(ids))
    return found
