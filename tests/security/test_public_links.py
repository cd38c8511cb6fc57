"""Issue 16, item 4: every link that leaves the site is built from PUBLIC_BASE_URL. Before, they followed the
request's Host among the trusted hosts: a request to another trusted name (or a forged Host header naming one)
printed that name into vendor invitation links, the dossier link and QR on the receipt, the officer's rating QR."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import pytest

from app.extensions import db
from tenants.scoping import tenant_context
from tests.tenants.market.helpers import make_vendor
from tests.tenants.onestop.conftest import counter_dossier, procedure, vn

PUBLIC = "https://gialam.example.vn"
FORGED = "http://www.gialam.example.vn"  # trusted too (TRUSTED_HOSTS), but not the public address


@pytest.fixture
def public_host(app, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", PUBLIC)
    monkeypatch.setitem(app.config, "TRUSTED_HOSTS", ["gialam.example.vn", "www.gialam.example.vn"])
    monkeypatch.setitem(app.config, "SESSION_COOKIE_DOMAIN", False)


def _signed_in(email: str, app):
    """A client signed in through the forged (but trusted) host name."""
    from tests.conftest import TEST_PASSWORD

    client = app.test_client()
    page = client.get("/login", base_url=FORGED).get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"email": email, "password": TEST_PASSWORD, "csrf_token": token},
                       base_url=FORGED).status_code == 302
    return client


def _qr_texts(html: str) -> list[str]:
    import zxingcpp
    from PIL import Image

    texts = []
    for data in re.findall(r'src="data:image/png;base64,([^"]+)"', html):
        texts += [b.text for b in zxingcpp.read_barcodes(Image.open(io.BytesIO(base64.b64decode(data))))]
    return texts


def test_the_receipt_and_the_counter_qr_name_the_public_host_whatever_the_host_asked(app, make, public_host):
    commune = make.tenant("bat-trang", "Bát Tràng")
    officer = make.user("officer@battrang.vn", "officer", commune)
    with app.app_context(), tenant_context(commune):
        d = counter_dossier(officer, procedure(), vn(2026, 3, 2, 9, 0))
        db.session.commit()
        dossier_id, code = d.id, d.code
    client = _signed_in("officer@battrang.vn", app)
    receipt = client.get(f"/c/bat-trang/onestop/d/{dossier_id}/receipt", base_url=FORGED,
                         headers={"Host": "www.gialam.example.vn"})
    assert receipt.status_code == 200
    html = receipt.get_data(as_text=True)
    [slip_qr] = [t for t in _qr_texts(html) if "/lookup/" in t]
    assert slip_qr.startswith(f"{PUBLIC}/c/bat-trang/onestop/lookup/{code}?k=")
    assert f'href="{slip_qr}"' in html and "www.gialam" not in html
    counter = client.get(f"/c/bat-trang/onestop/officers/{officer.id}/qr", base_url=FORGED).get_data(as_text=True)
    [counter_qr] = _qr_texts(counter)
    assert counter_qr.startswith(f"{PUBLIC}/c/bat-trang/onestop/rate/") and "www.gialam" not in counter


def test_a_vendor_invitation_link_names_the_public_host(app, make, public_host):
    tenant = make.tenant("trau-quy", "Trâu Quỳ")
    make.user("admin@trauquy.vn", "commune_admin", tenant)
    vendor = make_vendor(app, tenant)
    client = _signed_in("admin@trauquy.vn", app)
    page = client.get(f"/c/trau-quy/market/vendors/{vendor.id}", base_url=FORGED).get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
    response = client.post(f"/c/trau-quy/market/vendors/{vendor.id}/invitation", data={"csrf_token": token},
                           base_url=FORGED)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    [link] = re.findall(r'value="([^"]+)" aria-label="[^"]*" data-testid="invitation-link"', page)
    assert link.startswith(f"{PUBLIC}/") and "www.gialam" not in page


def test_shared_pages_and_payment_links_name_the_public_host(app, make, public_host):
    from app.links import external_url

    client = app.test_client()
    html = client.get("/marketplace/", base_url=FORGED).get_data(as_text=True)
    assert f'property="og:url" content="{PUBLIC}/marketplace/"' in html
    with app.test_request_context("/", base_url=FORGED):
        assert external_url("payments.hosted", public_id="pi_x").startswith(f"{PUBLIC}/")


def test_no_link_is_built_from_the_request_host_in_the_code():
    """The one builder is app/links.py: ``_external=True`` (the request's host) appears nowhere else."""
    root = Path(__file__).resolve().parents[2]
    found = [str(path.relative_to(root)) for folder in ("app", "tenants", "marketplace")
             for path in (root / folder).rglob("*") if path.suffix in (".py", ".html")
             and path.name != "links.py" and "_external=True" in path.read_text(encoding="utf-8")]
    assert found == []
