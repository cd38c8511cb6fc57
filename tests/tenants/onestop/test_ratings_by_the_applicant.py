"""Issue 16, item 2: ratings only by the applicant. Before, anyone with a dossier code (codes are sequential) saw its
rating and replaced it, and the counter QR credited whichever officer the URL named."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.clock import as_utc
from app.extensions import db
from tenants.onestop import proof, services
from tenants.onestop.models import Dossier, Rating
from tenants.scoping import tenant_context
from tests.conftest import csrf_token
from tests.tenants.onestop.conftest import counter_dossier, procedure, vn

ID_NUMBER = "001090012345"


@pytest.fixture
def dossier(app, commune, officer):
    """A received dossier: (id, code, the applicant's key of its receipt QR)."""
    with app.app_context(), tenant_context(commune):
        d = counter_dossier(officer, procedure(), vn(2026, 3, 2, 9, 0))
        db.session.commit()
        with app.test_request_context():
            return d.id, d.code, proof.applicant_key(d)


def _rating(app, commune):
    with app.app_context(), tenant_context(commune):
        rating = db.session.scalar(select(Rating))
        return None if rating is None else (rating.level, rating.reason, rating.officer_id)


def test_a_stranger_with_the_code_can_neither_rate_nor_see_nor_replace_the_rating(app, client, commune, officer,
                                                                                   dossier):
    _id, code, key = dossier
    page = f"/c/bat-trang/onestop/lookup/{code}"
    token = csrf_token(client, page)
    # the reproduction: a code alone rated the dossier
    stranger = client.post(f"{page}/rate", data={"level": "unsatisfied", "reason": "giả mạo", "csrf_token": token})
    assert stranger.status_code == 302 and _rating(app, commune) is None
    wrong_key = client.post(f"{page}/rate", data={"level": "satisfied", "k": key[:-2] + "AA", "csrf_token": token})
    wrong_id = client.post(f"{page}/rate?lang=en", data={"level": "satisfied", "id_number": "001090099999",
                                                 "csrf_token": token}, follow_redirects=True)
    assert "Only the applicant can rate" in wrong_id.get_data(as_text=True)
    assert wrong_key.status_code == 302 and _rating(app, commune) is None
    # the applicant, by the key of the receipt's QR
    mine = client.post(f"{page}/rate", data={"level": "very_satisfied", "k": key, "csrf_token": token})
    assert mine.status_code == 302 and mine.headers["Location"].endswith(f"{page}?k={key}")
    assert _rating(app, commune) == ("very_satisfied", "", officer.id)
    # nobody else sees it ...
    assert 'data-testid="current-rating"' not in client.get(page).get_data(as_text=True)
    assert "current-rating" not in client.get(f"{page}?k=forged").get_data(as_text=True)
    assert "rating" not in client.get(f"/api/dossiers/{code}").get_json()
    # ... nor replaces it; the applicant sees theirs
    client.post(f"{page}/rate", data={"level": "unsatisfied", "reason": "giả mạo", "csrf_token": token})
    assert _rating(app, commune) == ("very_satisfied", "", officer.id)
    assert 'data-testid="current-rating"' in client.get(f"{page}?k={key}").get_data(as_text=True)


def test_the_applicant_changes_the_rating_only_within_the_window(app, commune, officer, dossier):
    dossier_id, _code, key = dossier
    with app.test_request_context(), tenant_context(commune):
        d = db.session.get(Dossier, dossier_id)
        first = vn(2026, 3, 3, 9, 0)
        services.rate(d, "satisfied", key=key, now=first)
        services.rate(d, "unsatisfied", "Chờ lâu", id_number=ID_NUMBER,
                      now=first + timedelta(days=services.RATING_CHANGE_DAYS) - timedelta(minutes=1))
        with pytest.raises(services.ValidationError):
            services.rate(d, "very_satisfied", key=key,
                          now=first + timedelta(days=services.RATING_CHANGE_DAYS, minutes=1))
        [rating] = db.session.scalars(select(Rating)).all()  # one per dossier; the time it was first given
        assert rating.level == "unsatisfied" and as_utc(rating.rated_at) == as_utc(first)
        db.session.rollback()


def test_the_counter_qr_can_no_longer_name_any_officer(app, client, make, commune, officer, dossier):
    _id, code, _key = dossier
    other_commune = make.tenant("kieu-ky", "Kiêu Kỵ")
    stranger = make.user("officer@kieuky.vn", "officer", other_commune)
    colleague = make.user("colleague@battrang.vn", "officer", commune)
    with app.test_request_context():
        forged = proof.counter_token(commune.id, officer.id)[:-3] + "xyz"
        foreign = proof.counter_token(other_commune.id, stranger.id)
    assert client.get(f"/c/bat-trang/onestop/rate/{forged}").status_code == 404
    assert client.get(f"/c/bat-trang/onestop/rate/{foreign}").status_code == 404
    # the reproduction: an officer's id in the URL (a colleague who never served the dossier) took the credit
    url = f"/c/bat-trang/onestop/rate/{colleague.id}"
    token = csrf_token(client, url)
    client.post(url, data={"code": code, "id_number": ID_NUMBER, "level": "very_satisfied", "csrf_token": token})
    assert _rating(app, commune) == ("very_satisfied", "", officer.id)
    # and without the applicant's ID number the counter form rates nothing
    with app.app_context(), tenant_context(commune):
        db.session.execute(db.delete(Rating))
        db.session.commit()
    refused = client.post(f"{url}?lang=en", data={"code": code, "level": "satisfied", "csrf_token": token})
    assert refused.status_code == 400 and _rating(app, commune) is None


def test_ratings_are_limited_per_dossier_and_per_address(app, client, monkeypatch, commune, dossier, make):
    _id, code, key = dossier
    monkeypatch.setitem(app.config, "ONESTOP_RATING_DOSSIER_LIMIT", "3 per day")
    monkeypatch.setitem(app.config, "ONESTOP_RATING_ADDRESS_LIMIT", "5 per hour")
    page = f"/c/bat-trang/onestop/lookup/{code}"
    token = csrf_token(client, page)
    answers = [client.post(f"{page}/rate", data={"level": "satisfied", "id_number": f"00109009999{n}",
                                                 "csrf_token": token},
                           environ_base={"REMOTE_ADDR": f"10.0.0.{n}"}).status_code for n in range(4)]
    assert answers == [302, 302, 302, 429]  # guesses from four addresses: the dossier's budget is spent
    # the applicant's own rating of that dossier waits too; the address limit counts across dossiers
    assert client.post(f"{page}/rate", data={"level": "satisfied", "k": key, "csrf_token": token}).status_code == 429
    with app.app_context(), tenant_context(commune):
        other = counter_dossier(db.session.get(Dossier, _id).officer, procedure(name="Khác"), vn(2026, 3, 2, 10, 0))
        db.session.commit()
        other_code = other.code
    url = f"/c/bat-trang/onestop/lookup/{other_code}/rate"
    same_address = [client.post(url, data={"level": "satisfied", "csrf_token": token},
                                environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code for _ in range(6)]
    assert same_address[:3] == [302, 302, 302] and 429 in same_address


def test_the_counter_form_refuses_at_its_fields_with_400_and_records_nothing(app, client, commune, officer, dossier):
    """A code typed wrong and a rule the service refuses take the same path: the form again, the reason under its
    field, status 400, nothing written (mend, item 2)."""
    _id, code, _key = dossier
    with app.test_request_context():
        url = f"/c/bat-trang/onestop/rate/{proof.counter_token(commune.id, officer.id)}?lang=en"
    token = csrf_token(client, url)
    unknown = client.post(url, data={"code": "XX-000", "id_number": ID_NUMBER, "level": "satisfied",
                                     "csrf_token": token})
    html = unknown.get_data(as_text=True)
    assert unknown.status_code == 400 and 'value="XX-000"' in html and _rating(app, commune) is None
    assert "No dossier has this code." in html
    no_reason = client.post(url, data={"code": code, "id_number": ID_NUMBER, "level": "unsatisfied",
                                       "csrf_token": token})
    assert no_reason.status_code == 400 and "Tell us why you are not satisfied." in no_reason.get_data(as_text=True)
    assert _rating(app, commune) is None
