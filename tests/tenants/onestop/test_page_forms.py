"""A dossier's public page builds its documents form and its rating form only when it shows them (issue #17:
building the two forms was a quarter of the page's work). The page must be the same as when both are always built:
in every status, for a visitor with the code only and for the applicant (the key of the receipt's QR)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import update

from app.extensions import db
from tenants.onestop import statuses, views_public
from tenants.onestop.forms import RatingForm, SupplementForm
from tenants.onestop.models import Dossier
from tenants.scoping import tenant_context
from tests.tenants.onestop.test_ratings_by_the_applicant import dossier  # noqa: F401 (received: id, code, key)


def _page(client, path: str) -> str:
    answer = client.get(path)
    assert answer.status_code == 200
    # the CSRF token is signed with the time: the same token, a second later, reads differently
    return re.sub(r'(name="csrf_token"[^>]*? value=")[^"]+', r"\1-", answer.get_data(as_text=True))


@pytest.mark.parametrize("status", [s.value for s in statuses.ALL])
def test_the_page_is_the_one_built_with_both_forms(app, client, commune, dossier, monkeypatch, status):
    dossier_id, code, key = dossier
    with app.app_context(), tenant_context(commune):
        db.session.execute(update(Dossier).where(Dossier.id == dossier_id).values(status=status))
        db.session.commit()
    paths = [f"/c/bat-trang/onestop/lookup/{code}", f"/c/bat-trang/onestop/lookup/{code}?k={key}",
             f"/c/bat-trang/onestop/lookup/{code}?lang=en&k={key}"]
    served = []
    for path in paths:  # in turn: the applicant's key, once shown, is remembered by the session
        served.append(_page(client, path))
        with monkeypatch.context() as patched:
            patched.setattr(views_public, "dossier_page_forms",
                            lambda found, with_personal: (SupplementForm(), RatingForm()))
            assert _page(client, path) == served[-1], path
    # and the forms are there when they should be
    assert ('data-testid="rate-submit"' in served[0]) == (status != "registered")
    assert ('data-testid="supplement"' in served[1]) == (status == "awaiting_documents")
    assert 'data-testid="supplement"' not in served[0]

