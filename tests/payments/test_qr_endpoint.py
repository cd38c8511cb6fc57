"""GET /pay/<public_id>/qr.<kind>: the QR image of an intent, public, cheap and cacheable."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import zxingcpp
from PIL import Image

from app import transactions
from app.extensions import db
from app.payments import qr
from app.payments import views_public as views
from app.clock import utcnow
from app.payments.intents import get_intent, update_intent
from tenants.scoping import all_tenants, tenant_context
from tests.conftest import count_queries, data_statements
from tests.payments.helpers import payer_page_intent

IMMUTABLE = "public, max-age=31536000, immutable"


@pytest.fixture
def intent(app, make):
    return payer_page_intent(app, make)


def _versioned(client, intent, kind):
    """The image URL exactly as the hosted page links it (content-addressed with ?v=)."""
    html = client.get(f"/pay/{intent['public_id']}").get_data(as_text=True)
    match = re.search(rf'(/pay/{intent["public_id"]}/qr\.{kind}\?v=[0-9a-f]+)', html)
    assert match, f"no {kind} link on the hosted page"
    return match.group(1)


# ------------------------------------------------------------------------------------------------- content


def test_png_decodes_back_to_the_intents_payload_exactly(client, intent):
    response = client.get(f"/pay/{intent['public_id']}/qr.png")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    image = Image.open(io.BytesIO(response.data))
    assert image.format == "PNG" and image.width >= 200
    results = zxingcpp.read_barcodes(image)
    assert [r.text for r in results] == [intent["payload"]]
    assert results[0].format == zxingcpp.BarcodeFormat.QRCode  # a full QR code, never a Micro QR


def test_svg_and_pdf_have_their_content_types(client, intent):
    svg = client.get(f"/pay/{intent['public_id']}/qr.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert b"<svg" in svg.data[:300]
    pdf = client.get(f"/pay/{intent['public_id']}/qr.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    disposition = pdf.headers["Content-Disposition"]
    assert disposition.startswith("inline;") and f"VietQR-{intent['reference']}.pdf" in disposition


def test_the_image_is_the_cached_render_of_the_payload(client, intent):
    for kind in ("png", "svg", "pdf"):
        body, etag, mimetype = qr.qr_image(intent["payload"], kind)
        response = client.get(f"/pay/{intent['public_id']}/qr.{kind}")
        assert response.data == body and response.headers["ETag"] == etag and response.mimetype == mimetype


# ------------------------------------------------------------------------------------------------- caching


def test_versioned_url_is_immutable_with_etag(client, intent):
    url = _versioned(client, intent, "png")
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == IMMUTABLE
    assert response.headers["ETag"] == qr.etag_for(intent["payload"], "png")
    pdf = client.get(_versioned(client, intent, "pdf"))
    assert pdf.headers["Cache-Control"] == IMMUTABLE


def test_if_none_match_gives_304_without_a_body(client, intent):
    url = _versioned(client, intent, "png")
    etag = client.get(url).headers["ETag"]
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = client.get(url, headers={"If-None-Match": header})
        assert again.status_code == 304, header
        assert again.data == b""
        assert again.headers["ETag"] == etag
        assert again.headers["Cache-Control"] == IMMUTABLE
    assert client.get(url, headers={"If-None-Match": '"stale"'}).status_code == 200


def test_each_kind_has_its_own_etag(client, intent):
    etags = {client.get(f"/pay/{intent['public_id']}/qr.{kind}").headers["ETag"] for kind in ("png", "svg", "pdf")}
    assert len(etags) == 3


def test_unversioned_url_revalidates_because_the_amount_can_change(app, client, intent):
    """The URL names an intent; updating its amount changes the payload, so only ?v= URLs are immutable."""
    plain = client.get(f"/pay/{intent['public_id']}/qr.png")
    assert plain.headers["Cache-Control"] == "public, no-cache"
    old_etag = plain.headers["ETag"]
    assert client.get(f"/pay/{intent['public_id']}/qr.png?v=outdated").headers["Cache-Control"] == "public, no-cache"

    with app.app_context(), tenant_context(intent["tenant"]):
        new_payload = transactions.run(lambda: update_intent(get_intent(intent["public_id"]), amount=200_000)
                                       .qr_payload)
    after = client.get(f"/pay/{intent['public_id']}/qr.png", headers={"If-None-Match": old_etag})
    assert after.status_code == 200  # the old ETag no longer matches: the new QR comes back
    assert after.headers["ETag"] != old_etag
    assert [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(after.data)))] == [new_payload]
    assert "54062000005802VN" in new_payload  # tag 54 = 200000
    new_url = _versioned(client, intent, "png")
    assert new_url.endswith("v=" + after.headers["ETag"].strip('"'))


def test_image_responses_never_touch_the_session(client, intent):
    client.get("/lang/en")  # the browser now holds a session cookie
    url = _versioned(client, intent, "png")
    response = client.get(url)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert "cookie" not in response.headers.get("Vary", "").lower()  # shared caches may store it


# ------------------------------------------------------------------------------------------------- not found


@pytest.mark.parametrize("path", [
    "/pay/pi_doesnotexist000000000000/qr.png",
    "/pay/pi_doesnotexist000000000000/qr.svg",
    "/pay/{id}/qr.gif",
    "/pay/{id}/qr.PNG",
    "/pay/" + "x" * 41 + "/qr.png",
    "/pay/pi_bad%27id/qr.png",
])
def test_unknown_intent_or_kind_is_a_plain_404(client, intent, path):
    response = client.get(path.format(id=intent["public_id"]))
    assert response.status_code == 404
    assert response.mimetype == "text/plain"
    assert "Cache-Control" not in response.headers or "immutable" not in response.headers["Cache-Control"]


# ------------------------------------------------------------------------------------------------- cost


def test_image_costs_one_indexed_query_for_the_payload_only(app, client, intent, is_postgres):
    url = _versioned(client, intent, "png")
    views._confirmed_versions.clear()
    with count_queries(app) as statements:
        assert client.get(url).status_code == 200
    data = data_statements(statements)
    assert len(data) == 1, statements
    select_clause = data[0].split(" FROM ")[0].lower()
    assert select_clause.count(",") == 1 and "qr_payload" in select_clause and "expires_at" in select_clause
    # only the payload and its deadline (a QR that can no longer be paid is not served)
    assert "public_id" in data[0]
    assert len(statements) <= (2 if is_postgres else 1)

    with count_queries(app) as statements:  # an unversioned revalidation costs the same and renders nothing
        plain = url.split("?")[0]
        assert client.get(plain, headers={"If-None-Match": qr.etag_for(intent["payload"], "png")}).status_code == 304
    assert len(data_statements(statements)) == 1


def test_a_confirmed_version_is_served_again_with_no_query(app, client, intent):
    """Once the database confirmed that ?v= is the payload's version, the URL names fixed content."""
    url = _versioned(client, intent, "png")
    first = client.get(url)
    with count_queries(app) as statements:
        again = client.get(url)
        revalidated = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert statements == []
    assert again.data == first.data and again.headers["Cache-Control"] == first.headers["Cache-Control"]
    assert revalidated.status_code == 304
    with count_queries(app) as statements:  # a version the database never confirmed is looked up every time
        assert client.get(url.split("?")[0] + "?v=0123456789abcdef0123").headers["Cache-Control"] == "public, no-cache"
    assert len(data_statements(statements)) == 1


def test_cold_cache_still_one_query_and_unknown_id_one_query(app, client, intent):
    qr.cache_clear()
    with count_queries(app) as statements:
        assert client.get(f"/pay/{intent['public_id']}/qr.svg").status_code == 200
        assert client.get("/pay/pi_doesnotexist000000000000/qr.png").status_code == 404
        assert client.get(f"/pay/{intent['public_id']}/qr.gif").status_code == 404  # refused before the database
    assert len(data_statements(statements)) == 2


def test_an_expired_intent_serves_no_image(app, client, intent):
    """Issue 16: a QR that can no longer be paid is not served (canceled ones and closed communes:
    tests/security/test_closed_communes.py)."""
    with app.app_context(), all_tenants():
        found = get_intent(intent["public_id"])
        found.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    assert client.get(f"/pay/{intent['public_id']}/qr.png").status_code == 404
