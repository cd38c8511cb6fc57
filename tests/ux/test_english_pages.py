"""English pages say nothing in Vietnamese but their users' own words (#19 item 7): the one-stop statuses and
history, the rating labels and the payment descriptions are translated when shown.

The commune, people and procedure here are named without diacritics, so any Vietnamese letter on an English page
is the application's own text. Printed slips are official Vietnamese forms and are not walked; the language switch
names its language in that language (``lang="vi"``) and is left out."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from app.extensions import db
from app.payments.models import PaymentIntent
from tenants.onestop import services
from tenants.scoping import tenant_context
from tests.conftest import csrf_token, login
from tests.payments.conftest import bank_secrets  # noqa: F401  (fixture)
from tests.payments.helpers import ACCOUNT_A, make_account
from tests.tenants.onestop.conftest import procedure, vn

# Letters only Vietnamese uses among the Latin ones (any letter with a diacritic, đ included).
VIETNAMESE = re.compile(r"[À-ỹĐđ]")
# Names stay as they are written in every language: the commune's official name, its district and city, a
# decision's number.
PROPER_NAMES = ("Xã Xa A", "Gia Lâm", "Hà Nội", "766/QĐ-TTg")
APPLICANT = dict(name="Nguyen Van An", id_number="001090012345", phone="0912345678", address="Thon 1",
                 email="an@example.vn")


@pytest.fixture
def commune(make):
    return make.tenant("xa-a", "Xa A")


@pytest.fixture
def officer(make, commune):
    return make.user("officer@xa-a.vn", "officer", commune, name="Tran Thi Binh")


@pytest.fixture
def dossiers(app, commune, officer, bank_secrets):  # noqa: F811
    """(rated dossier code, its id, the fee's payment page): one dossier moved through several states and rated,
    another waiting for its fee."""
    make_account(app, commune, ACCOUNT_A)
    with app.app_context(), tenant_context(commune):
        staff = db.session.merge(officer)
        proc = procedure(name="Copy of a death record", sector="Civil status", required_documents="Form", fee=8_000)
        clean = services.clean_applicant(**APPLICANT)
        rated = services.intake(proc.id, clean, channel="counter", officer=staff, now=vn(2026, 3, 2, 9, 0))
        services.act(rated, "request_documents", staff, reason="Birth record")
        services.act(rated, "process", staff)
        paying = services.intake(proc.id, clean, channel="counter", officer=staff, now=vn(2026, 3, 2, 9, 30))
        services.request_fee(paying, staff)
        db.session.commit()
        intent = db.session.scalar(select(PaymentIntent).where(PaymentIntent.id == paying.fee_intent_id))
        return rated.code, rated.id, paying.id, f"/pay/{intent.public_id}"


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Visible(HTMLParser):
    """The text a reader sees: no scripts or styles, nothing marked as written in Vietnamese (``lang="vi"``)."""

    def __init__(self):
        super().__init__()
        self.skipping: list[str] = []  # the open elements whose text is left out
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        if self.skipping or tag in ("script", "style", "template") or dict(attrs).get("lang") == "vi":
            self.skipping.append(tag)

    def handle_endtag(self, tag):
        if self.skipping and self.skipping[-1] == tag:
            self.skipping.pop()

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def test_english_pages_carry_no_vietnamese_of_their_own(client, commune, officer, dossiers):
    code, rated_id, paying_id, pay_page = dossiers
    client.get("/lang/en")
    lookup = f"/c/xa-a/onestop/lookup/{code}"
    token = csrf_token(client, lookup)
    client.post(f"{lookup}/rate", data={"level": "very_satisfied", "csrf_token": token})
    pages = {"public dossier": client.post(lookup, data={"id_number": "001090012345", "csrf_token": token}),
             "payment page": client.get(pay_page), "rating": client.get(lookup)}
    login(client, "officer@xa-a.vn")
    client.get("/lang/en")
    for path in ("/c/xa-a/desk", "/c/xa-a/onestop/", f"/c/xa-a/onestop/d/{rated_id}",
                 f"/c/xa-a/onestop/d/{rated_id}/sheet", f"/c/xa-a/onestop/d/{paying_id}",
                 "/c/xa-a/onestop/dashboard", "/c/xa-a/payments/"):
        pages[path] = client.get(path)
    found = {}
    for name, response in pages.items():
        assert response.status_code == 200, name
        text = visible_text(response.get_data(as_text=True))
        for proper in PROPER_NAMES:
            text = text.replace(proper, "")
        words = sorted({w for w in text.split() if VIETNAMESE.search(w)})
        if words:
            found[name] = words
    assert found == {}, found
    assert "Fee for dossier" in visible_text(pages["payment page"].get_data(as_text=True))
