"""The sales page translates its labels once per page, not once per row (issue #17): the page is the same as with
the labels translated row by row."""

from __future__ import annotations

import re

import pytest

from tenants.market import views_vendor
from tests.tenants.market.test_sales import sell, tenant, vendor  # noqa: F401  (fixtures)

pytestmark = pytest.mark.usefixtures("bank_secrets")


def _page(client) -> str:
    html = client.get("/c/trau-quy/market/me/sales").get_data(as_text=True)
    return re.sub(r'name="csrf_token"( type="hidden")? value="[^"]+"', "TOKEN", html)


@pytest.mark.parametrize("language", ["en", "vi"])
def test_the_ledger_with_labels_translated_once_equals_row_by_row(client, vendor, monkeypatch, language):  # noqa: F811
    client.get(f"/lang/{language}")
    for amount, method in (("150.000", "qr"), ("20.000", "cash"), ("35.000", "cash")):
        sell(client, amount, method=method)
    _page(client)  # shows (and so consumes) the last sale's flash
    once = _page(client)
    monkeypatch.setattr(views_vendor, "_resolved", lambda labels: labels)  # the lazy labels, as before
    assert _page(client) == once
    assert once.count('class="badge') >= 3
