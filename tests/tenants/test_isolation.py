"""A user of one commune gets 404 for another commune's records: by URL, by record id and by form post."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.auth.models import User
from app.extensions import db
from tenants.notices.models import Notice
from tenants.scoping import all_tenants, tenant_context
from tests.conftest import login, post_form


@pytest.fixture
def communes(make):
    """Communes A and B, each with an admin, an officer and a published notice; B also has a draft."""
    a, b = make.tenant("xa-a", "Xã A"), make.tenant("xa-b", "Xã B")
    return {
        "a": a,
        "b": b,
        "a_admin": make.user("admin@a.vn", "commune_admin", a),
        "a_officer": make.user("officer@a.vn", "officer", a),
        "b_admin": make.user("admin@b.vn", "commune_admin", b),
        "b_officer": make.user("officer@b.vn", "officer", b),
        "a_notice": make.notice(a, "Thông báo của A"),
        "b_notice": make.notice(b, "Thông báo của B"),
        "b_draft": make.notice(b, "Bản nháp của B", published=False),
    }


STAFF_OF_A = ["admin@a.vn", "officer@a.vn"]


def notice_in_db(app, notice) -> Notice | None:
    with app.app_context(), all_tenants():
        found = db.session.get(Notice, notice.id)
        if found is not None:
            db.session.expunge(found)
        return found


def page(client, path: str) -> str:
    """The page at ``path``, which must answer 200."""
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def user_in_db(app, user) -> User:
    with app.app_context():
        found = db.session.get(User, user.id)
        db.session.expunge(found)
        return found


# --- the user's own commune works (so the 404s below are about isolation, not broken pages) -------------------

@pytest.mark.parametrize("email", STAFF_OF_A)
def test_staff_of_commune_a_can_use_their_own_desk_and_notices(client, communes, email):
    login(client, email)
    desk = page(client, "/c/xa-a/desk")
    assert 'data-testid="desk-title">Xã Xã A<' in desk and "/c/xa-a/onestop/" in desk and "/c/xa-b/" not in desk
    notices = page(client, "/c/xa-a/notices/")
    assert "Thông báo của A" in notices and "Thông báo của B" not in notices
    editor = page(client, f"/c/xa-a/notices/{communes['a_notice'].id}/edit")
    assert 'value="Thông báo của A"' in editor


def test_commune_admin_can_open_their_own_staff_page(client, communes):
    login(client, "admin@a.vn")
    page = client.get("/c/xa-a/staff")
    assert page.status_code == 200
    assert "officer@a.vn" in page.get_data(as_text=True)
    assert "officer@b.vn" not in page.get_data(as_text=True)


# --- by URL ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("email", STAFF_OF_A)
@pytest.mark.parametrize("path", ["/c/xa-b/desk", "/c/xa-b/notices/", "/c/xa-b/notices/new", "/c/xa-b/staff"])
def test_staff_of_other_commune_gets_404_for_its_pages(client, communes, email, path):
    login(client, email)
    assert client.get(path).status_code == 404


def test_officer_of_other_commune_gets_404_for_its_draft_by_its_own_url(client, communes):
    login(client, "officer@a.vn")
    assert client.get(f"/c/xa-b/notices/{communes['b_draft'].id}").status_code == 404
    assert client.get(f"/c/xa-b/notices/{communes['b_draft'].id}/edit").status_code == 404


def test_desk_of_commune_a_does_not_list_commune_b(client, communes):
    login(client, "admin@a.vn")
    html = client.get("/c/xa-a/notices/").get_data(as_text=True)
    assert "Thông báo của A" in html
    assert "Thông báo của B" not in html and "Bản nháp của B" not in html


# --- by record id through one's own commune URL ----------------------------------------------------------------

@pytest.mark.parametrize("email", STAFF_OF_A)
def test_staff_of_commune_a_gets_404_for_b_notice_through_a_url(client, communes, email):
    login(client, email)
    for notice in (communes["b_notice"], communes["b_draft"]):
        assert client.get(f"/c/xa-a/notices/{notice.id}").status_code == 404
        assert client.get(f"/c/xa-a/notices/{notice.id}/edit").status_code == 404


def test_public_gets_404_for_b_notice_through_a_url(client, communes):
    assert client.get(f"/c/xa-a/notices/{communes['b_notice'].id}").status_code == 404
    shown = page(client, f"/c/xa-b/notices/{communes['b_notice'].id}")
    assert "<h1>Thông báo của B</h1>" in shown and "Xã B" in shown


def test_unknown_notice_id_is_404(client, communes):
    login(client, "admin@a.vn")
    assert client.get("/c/xa-a/notices/999999").status_code == 404
    assert client.get("/c/xa-a/notices/999999/edit").status_code == 404


# --- by form post ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("email", STAFF_OF_A)
def test_editing_b_notice_through_a_url_is_404_and_changes_nothing(app, client, communes, email):
    login(client, email)
    target = communes["b_notice"]
    response = post_form(client, f"/c/xa-a/notices/{target.id}/edit",
                         {"title": "Bị sửa", "body": "hacked", "published": "y"})
    assert response.status_code == 404
    saved = notice_in_db(app, target)
    assert (saved.title, saved.body, saved.tenant_id) == ("Thông báo của B", "", communes["b"].id)


@pytest.mark.parametrize("email", STAFF_OF_A)
def test_deleting_b_notice_through_a_url_is_404_and_deletes_nothing(app, client, communes, email):
    login(client, email)
    response = post_form(client, f"/c/xa-a/notices/{communes['b_notice'].id}/delete")
    assert response.status_code == 404
    assert notice_in_db(app, communes["b_notice"]) is not None


@pytest.mark.parametrize("email", STAFF_OF_A)
def test_posting_to_b_urls_is_404_and_changes_nothing(app, client, communes, email):
    login(client, email)
    target = communes["b_notice"]
    assert post_form(client, f"/c/xa-b/notices/{target.id}/edit", {"title": "Bị sửa"}).status_code == 404
    assert post_form(client, f"/c/xa-b/notices/{target.id}/delete").status_code == 404
    assert post_form(client, "/c/xa-b/notices/new", {"title": "Cài cắm"}).status_code == 404
    assert notice_in_db(app, target).title == "Thông báo của B"
    with app.app_context(), tenant_context(communes["b"]):
        assert sorted(db.session.scalars(select(Notice.title))) == ["Bản nháp của B", "Thông báo của B"]


def test_admin_deactivating_b_officer_through_a_url_is_404_and_officer_stays_active(app, client, communes):
    login(client, "admin@a.vn")
    officer = communes["b_officer"]
    response = post_form(client, f"/c/xa-a/staff/{officer.id}/deactivate")
    assert response.status_code == 404
    assert user_in_db(app, officer).active is True


def test_admin_deactivating_b_officer_through_b_url_is_404_and_officer_stays_active(app, client, communes):
    login(client, "admin@a.vn")
    officer = communes["b_officer"]
    assert post_form(client, f"/c/xa-b/staff/{officer.id}/deactivate").status_code == 404
    assert user_in_db(app, officer).active is True


def test_officer_creating_a_notice_in_own_commune_stamps_own_commune(app, client, communes):
    login(client, "officer@a.vn")
    response = post_form(client, "/c/xa-a/notices/new", {"title": "Lịch tiêm chủng", "published": "y"})
    assert response.status_code == 302
    with app.app_context(), all_tenants():
        notice = db.session.scalar(select(Notice).where(Notice.title == "Lịch tiêm chủng"))
        assert notice.tenant_id == communes["a"].id


# --- the public, unknown and inactive communes -----------------------------------------------------------------

def test_unpublished_notice_is_404_for_the_public(client, communes):
    assert client.get(f"/c/xa-b/notices/{communes['b_draft'].id}").status_code == 404
    assert "Bản nháp của B" not in client.get("/c/xa-b/").get_data(as_text=True)


def test_unpublished_notice_is_visible_to_own_staff_marked_as_a_draft(client, communes):
    login(client, "officer@b.vn")
    draft = page(client, f"/c/xa-b/notices/{communes['b_draft'].id}")
    assert "Bản nháp của B" in draft and 'data-testid="draft">Bản nháp<' in draft
    published = page(client, f"/c/xa-b/notices/{communes['b_notice'].id}")
    assert "Thông báo của B" in published and 'data-testid="draft"' not in published


def test_public_home_lists_only_own_published_notices(client, communes):
    html = client.get("/c/xa-a/").get_data(as_text=True)
    assert "Thông báo của A" in html
    assert "Thông báo của B" not in html


def test_anonymous_visitor_is_sent_to_login_for_staff_pages(client, communes):
    response = client.get("/c/xa-a/desk")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("path", ["/c/no-such-commune/", "/c/no-such-commune/desk", "/c/no-such-commune/notices/1"])
def test_unknown_slug_is_404(client, communes, path):
    assert client.get(path).status_code == 404


def test_inactive_tenant_is_404_even_for_its_own_staff(client, make):
    closed = make.tenant("xa-dong", status="inactive")
    make.user("admin@closed.vn", "commune_admin", closed)
    notice = make.notice(closed, "Cũ")
    assert client.get("/c/xa-dong/").status_code == 404
    assert client.get(f"/c/xa-dong/notices/{notice.id}").status_code == 404
    login(client, "admin@closed.vn")
    assert client.get("/c/xa-dong/desk").status_code == 404


def test_district_admin_oversees_every_commune(client, make, communes):
    make.user("district@gialam.vn", "district_admin")
    login(client, "district@gialam.vn")
    assert 'data-testid="desk-title">Xã Xã A<' in page(client, "/c/xa-a/desk")
    staff = page(client, "/c/xa-b/staff")
    assert "officer@b.vn" in staff and "admin@b.vn" in staff and "officer@a.vn" not in staff
    assert 'data-testid="draft">Bản nháp<' in page(client, f"/c/xa-b/notices/{communes['b_draft'].id}")
    # but still not another commune's notice through the wrong URL
    assert client.get(f"/c/xa-a/notices/{communes['b_notice'].id}").status_code == 404
