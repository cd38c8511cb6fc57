"""The versioned QR image from the response cache (issue #17): answered before Flask, exactly as Flask answers it,
only for a URL naming the payload's current version, and never after the intent's deadline or a commune's closing."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest

from app import cache as cache_module
from app.clock import utcnow
from app.extensions import db
from app.payments import qr, views_public as views
from app.payments.intents import get_intent
from tenants.models import Tenant
from tenants.scoping import all_tenants
from tests.payments.helpers import payer_page_intent


@pytest.fixture
def intent(app, make):
    return payer_page_intent(app, make)


def _versioned(client, intent, kind="png"):
    html = client.get(f"/pay/{intent['public_id']}").get_data(as_text=True)
    match = re.search(rf'(/pay/{intent["public_id"]}/qr\.{kind}\?v=[0-9a-f]+)', html)
    assert match, f"no {kind} link on the hosted page"
    return match.group(1)


def _cache(app):
    return app.extensions["response_cache"]


def _hit(app, client, url, **kwargs):
    """(response, answered by the response cache?)"""
    hits = _cache(app).hits
    response = client.get(url, **kwargs)
    return response, _cache(app).hits == hits + 1


def test_a_versioned_png_is_answered_before_flask_as_flask_answers_it(app, make, intent):
    client = app.test_client()  # no cookie: a payer's phone loading the image
    url = _versioned(app.test_client(), intent)
    first, was_hit = _hit(app, client, url)
    assert first.status_code == 200 and not was_hit
    again, was_hit = _hit(app, client, url)
    assert was_hit and again.headers["X-Cache"] == "HIT"
    cache = _cache(app)
    cache.enabled = False
    views._confirmed_versions.clear()  # Flask renders it from the database again
    try:
        rendered = client.get(url)
    finally:
        cache.enabled = True
    assert again.get_data() == rendered.get_data() and again.status == rendered.status
    del again.headers["X-Cache"]
    assert sorted(again.headers.items()) == sorted(rendered.headers.items())
    assert "Cookie" not in again.headers.get("Vary", "") and "Set-Cookie" not in again.headers
    # a revalidation from the cache: 304, as Flask's
    revalidated, was_hit = _hit(app, client, url, headers={"If-None-Match": first.headers["ETag"]})
    assert was_hit and revalidated.status_code == 304 and revalidated.get_data() == b""


def test_only_a_confirmed_version_of_the_png_is_stored(app, intent):
    client = app.test_client()
    url = _versioned(app.test_client(), intent)
    plain = url.split("?")[0]
    others = [plain, plain + "?v=0123456789abcdef0123",  # no version, or one that is not the payload's
              *(f"{plain[:-3]}{kind}?v={qr.image_version(intent['payload'], kind)}" for kind in ("svg", "pdf"))]
    for address in others:
        for _ in range(3):
            response, was_hit = _hit(app, client, address)
            assert response.status_code == 200 and not was_hit, address
    assert client.get(plain).headers["Cache-Control"] == "public, no-cache"


def test_the_cached_png_is_not_served_after_the_intents_deadline(app, intent, monkeypatch):
    client = app.test_client()
    url = _versioned(app.test_client(), intent)
    client.get(url)
    assert _hit(app, client, url)[1]
    left = intent["expires_at"] - time.time()
    assert 0 < left < 24 * 3600

    class Later:  # the middleware's clocks, past the deadline (the entry itself is younger than RESPONSE_CACHE_SECONDS)
        @staticmethod
        def monotonic():
            return time.monotonic() + left + 1

        @staticmethod
        def time():
            return time.time() + left + 1

    monkeypatch.setattr(cache_module, "time", Later)
    views._confirmed_versions.clear()
    with app.app_context(), all_tenants():  # the database agrees: the deadline has passed
        get_intent(intent["public_id"]).expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    response, was_hit = _hit(app, client, url)
    assert not was_hit and response.status_code == 404


def test_a_commune_closed_serves_no_cached_qr(app, intent):
    client = app.test_client()
    url = _versioned(app.test_client(), intent)
    client.get(url)
    assert _hit(app, client, url)[1]
    with app.app_context():
        db.session.get(Tenant, intent["tenant"].id).status = "inactive"
        db.session.commit()
    response, was_hit = _hit(app, client, url)
    assert not was_hit and response.status_code == 404


def test_a_bounded_view_that_sets_no_deadline_is_never_stored(app, intent):
    """The flag is what keeps it out: the same image, its deadline not given, is rendered every time."""
    client = app.test_client()
    url = _versioned(app.test_client(), intent)
    original = views.keep_until
    views.keep_until = lambda deadline: None
    try:
        for _ in range(3):
            assert not _hit(app, client, url)[1]
    finally:
        views.keep_until = original
    client.get(url)
    assert _hit(app, client, url)[1]
