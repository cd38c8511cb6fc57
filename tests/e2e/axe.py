"""axe-core for the browser journeys: ``assert_accessible(page)`` runs axe-core (shipped inside the PyPI package
axe-playwright-python, nothing downloaded at run time) on the page as it is and fails with axe's own report of every
WCAG 2.1 A/AA violation. Any journey can call it on any page; a sweep of every page can be built on it."""

from __future__ import annotations

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def violations(page, context=None, tags=None) -> tuple[list[dict], str]:
    """(axe's violations, its readable report) for ``page``, or for the part of it ``context`` selects."""
    from axe_playwright_python.sync_playwright import Axe

    options = {"runOnly": {"type": "tag", "values": tags or WCAG_21_AA}, "resultTypes": ["violations"]}
    results = Axe().run(page, context=context, options=options)
    return results.response["violations"], results.generate_report()


def assert_accessible(page, context=None, tags=None) -> None:
    found, report = violations(page, context, tags)
    assert not found, report
