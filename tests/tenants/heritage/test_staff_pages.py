"""The commune's staff edit the register; another commune's staff get 404 for every record, by URL, by id and by
form, and bad input is refused at its field with nothing changed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from tenants.heritage.models import Artefact, AudioGuide, Board, Festival, Relic, Stele
from tenants.scoping import all_tenants, tenant_context
from tests.conftest import csrf_token, login, post_form
from tests.tenants.heritage.helpers import (
    RELIC,
    heritage_records,
    make_artefact,
    make_relic,
    mp3,
    picture,
    wav,
)


@pytest.fixture(autouse=True)
def english(client):
    """Messages are checked in English (the UI is Vietnamese by default)."""
    client.get("/lang/en")


def count(app, model) -> int:
    with app.app_context(), all_tenants():
        return db.session.scalar(select(func.count()).select_from(model))


def relic_form(**values):
    data = {key: ("y" if value is True else value) for key, value in {**RELIC, **values}.items()
            if value not in (False, None)}
    return data


@pytest.mark.parametrize("who", ["admin@bt.vn", "officer@bt.vn"])
def test_staff_add_a_relic_and_it_shows_on_the_public_pages(app, client, commune, who):
    login(client, who)
    response = post_form(client, "/c/bat-trang/heritage/staff/relics/new", relic_form())
    assert response.status_code == 302
    with app.app_context(), tenant_context(commune):
        relic = db.session.scalar(select(Relic))
        assert (relic.name, relic.kind, relic.ranking, relic.latitude) == ("Đình Giang Cao", "dinh", "national", 20.9731)
    public = app.test_client()
    assert "Đình Giang Cao" in public.get("/c/bat-trang/heritage/").get_data(as_text=True)
    page = public.get(f"/c/bat-trang/heritage/relics/{relic.id}").get_data(as_text=True)
    assert "Mái đình cong vút" in page and "google.com/maps/search/?api=1&amp;query=20.973100,105.913900" in page


@pytest.mark.parametrize("values, field, message", [
    ({"name": "  "}, "name", "This field is required."),
    ({"kind": "castle"}, "kind", "Not a valid choice."),
    ({"latitude": "21.02", "longitude": ""}, "latitude", "Enter both the latitude and the longitude, or neither."),
    ({"latitude": "121.02", "longitude": "105.9"}, "latitude", "Enter a position in decimal degrees"),
    ({"name": "x" * 201}, "name", "Field cannot be longer than 200 characters."),
])
def test_bad_input_is_refused_at_its_field_and_nothing_is_saved(app, client, commune, values, field, message):
    login(client, "officer@bt.vn")
    response = post_form(client, "/c/bat-trang/heritage/staff/relics/new", relic_form(**values))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html and 'aria-invalid="true"' in html
    assert count(app, Relic) == 0


def test_staff_edit_a_relic_add_a_festival_artefact_stele_and_board(app, client, commune):
    relic_id = make_relic(app, commune)
    login(client, "officer@bt.vn")
    base = f"/c/bat-trang/heritage/staff/relics/{relic_id}"
    assert post_form(client, base, relic_form(name="Đình làng Giang Cao")).status_code == 302
    assert post_form(client, f"{base}/festivals", {"name": "Hội làng", "lunar_day": "14", "lunar_month": "2",
                                                   "days": "3"}).status_code == 302
    assert post_form(client, f"{base}/artefacts/new", {"inventory_number": "BT-9", "name": "Ngai thờ",
                                                      "material": "Gỗ sơn son thếp vàng"}).status_code == 302
    assert post_form(client, f"{base}/steles/new", {"kind": "document", "title": "Sắc phong 1783",
                                                   "original_text": "敕"}).status_code == 302
    assert post_form(client, f"{base}/boards", {"number": "12", "narration": "y"}).status_code == 302
    with app.app_context(), tenant_context(commune):
        assert db.session.scalar(select(Relic.name)) == "Đình làng Giang Cao"
        assert db.session.scalar(select(Festival.lunar_day)) == 14
        assert db.session.scalar(select(Artefact.material)) == "Gỗ sơn son thếp vàng"
        assert db.session.scalar(select(Stele.kind)) == "document"
        assert db.session.scalar(select(Board.number)) == 12
    page = client.get(base).get_data(as_text=True)
    assert "Sắc phong 1783" in page and "BT-9" in page and 'data-testid="board-12-a4-pdf"' in page


def test_a_taken_inventory_number_or_board_number_is_refused_with_a_message(app, client, commune):
    relic_id = make_relic(app, commune)
    make_artefact(app, commune, relic_id, number="BT-001")
    login(client, "officer@bt.vn")
    base = f"/c/bat-trang/heritage/staff/relics/{relic_id}"
    response = post_form(client, f"{base}/artefacts/new", {"inventory_number": "BT-001", "name": "Đỉnh đồng"})
    assert response.status_code == 400
    assert "Inventory number BT-001 is already given to another artefact." in response.get_data(as_text=True)
    post_form(client, f"{base}/boards", {"number": "3"})
    response = post_form(client, f"{base}/boards", {"number": "3"})
    assert response.status_code == 302
    assert "Board number 3 is already used in this commune." in client.get(base).get_data(as_text=True)
    assert count(app, Artefact) == 1 and count(app, Board) == 1


def test_a_relic_with_boards_is_not_deleted(app, client, commune):
    relic_id = make_relic(app, commune)
    login(client, "officer@bt.vn")
    post_form(client, f"/c/bat-trang/heritage/staff/relics/{relic_id}/boards", {})
    response = post_form(client, f"/c/bat-trang/heritage/staff/relics/{relic_id}/delete")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/staff/relics/{relic_id}")
    assert count(app, Relic) == 1


def test_deleting_a_relic_removes_its_records_and_files(app, client, commune, uploads):
    relic_id = make_relic(app, commune)
    make_artefact(app, commune, relic_id)
    login(client, "officer@bt.vn")
    base = f"/c/bat-trang/heritage/staff/relics/{relic_id}"
    token = csrf_token(client, base)
    client.post(f"{base}/photos", data={"csrf_token": token, "image": (__import__("io").BytesIO(picture()), "a.jpg")})
    assert any(uploads.rglob("*.jpg"))
    assert post_form(client, f"{base}/delete").status_code == 302
    assert count(app, Relic) == 0 and count(app, Artefact) == 0
    assert not any(uploads.rglob("*.jpg"))


def test_photos_go_through_the_image_pipeline_and_are_served_to_visitors(app, client, commune, uploads):
    import io

    relic_id = make_relic(app, commune)
    login(client, "officer@bt.vn")
    base = f"/c/bat-trang/heritage/staff/relics/{relic_id}"
    token = csrf_token(client, base)
    refused = client.post(f"{base}/photos", data={"csrf_token": token, "image": (io.BytesIO(b"%PDF-1.4"), "a.jpg")})
    assert refused.status_code == 302
    assert "This file is not a picture we can read." in client.get(base).get_data(as_text=True)
    ok = client.post(f"{base}/photos", data={"csrf_token": token, "image": (io.BytesIO(picture(3000, 2000, kind="PNG")),
                                                                             "photo.png")})
    assert ok.status_code == 302
    with app.app_context(), tenant_context(commune):
        [name] = db.session.scalar(select(Relic.photos))
    served = app.test_client().get(f"/c/bat-trang/heritage/relics/{relic_id}/photos/{name}-full.jpg")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert "immutable" in served.headers["Cache-Control"]
    from PIL import Image

    assert Image.open(io.BytesIO(served.data)).size == (1200, 800)  # re-encoded by the pipeline
    assert app.test_client().get(f"/c/bat-trang/heritage/relics/{relic_id}/photos/{'0' * 24}-full.jpg"
                                 ).status_code == 404


def test_a_panorama_must_be_twice_as_wide_as_high(app, client, commune, uploads):
    import io

    relic_id = make_relic(app, commune)
    login(client, "officer@bt.vn")
    base = f"/c/bat-trang/heritage/staff/relics/{relic_id}"
    token = csrf_token(client, base)
    client.post(f"{base}/panorama", data={"csrf_token": token, "image": (io.BytesIO(picture(800, 600)), "p.jpg")})
    assert "about twice as wide as it is high" in client.get(base).get_data(as_text=True)
    client.post(f"{base}/panorama", data={"csrf_token": token, "image": (io.BytesIO(picture(6000, 3000)), "p.jpg")})
    page = app.test_client().get(f"/c/bat-trang/heritage/relics/{relic_id}").get_data(as_text=True)
    assert 'data-testid="panorama"' in page


@pytest.mark.parametrize("data, kind", [(wav(), "audio/wav"), (mp3(), "audio/mpeg")])
def test_an_uploaded_recording_of_an_accepted_type_is_played_on_the_page(app, client, commune, uploads, data, kind):
    import io

    relic_id = make_relic(app, commune)
    login(client, "officer@bt.vn")
    base = f"/c/bat-trang/heritage/staff/relics/{relic_id}"
    response = client.post(f"{base}/audio", data={"csrf_token": csrf_token(client, base), "language": "vi",
                                                  "audio": (io.BytesIO(data), "guide.bin")})
    assert response.status_code == 302
    visitor = app.test_client()
    page = visitor.get(f"/c/bat-trang/heritage/relics/{relic_id}").get_data(as_text=True)
    assert 'data-mode="recording"' in page and f"/c/bat-trang/heritage/relics/{relic_id}/audio?lang=vi" in page
    served = visitor.get(f"/c/bat-trang/heritage/relics/{relic_id}/audio?lang=vi")
    assert served.status_code == 200 and served.mimetype == kind and served.data == data
    part = visitor.get(f"/c/bat-trang/heritage/relics/{relic_id}/audio?lang=vi", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and part.data == data[:100]
    english = visitor.get(f"/c/bat-trang/heritage/relics/{relic_id}?lang=en").get_data(as_text=True)
    assert 'data-mode="speech"' in english and 'data-speech-lang="en-US"' in english  # no English recording


@pytest.mark.parametrize("data", [b"ID3 but not audio", picture(), b"RIFF\x10\x00\x00\x00WAVEfmt ", b""])
def test_a_file_that_is_not_accepted_audio_is_refused_and_nothing_is_stored(app, client, commune, uploads, data):
    import io

    relic_id = make_relic(app, commune)
    login(client, "officer@bt.vn")
    base = f"/c/bat-trang/heritage/staff/relics/{relic_id}"
    response = client.post(f"{base}/audio", data={"csrf_token": csrf_token(client, base), "language": "vi",
                                                  "audio": (io.BytesIO(data), "guide.mp3")})
    assert response.status_code == 302
    page = client.get(base).get_data(as_text=True)
    assert ("This file is not a recording we can play. Upload an MP3, M4A (AAC), Ogg or WAV file." in page
            or "Choose an audio file." in page)
    assert count(app, AudioGuide) == 0 and not any(uploads.rglob("audio-*"))


def test_another_communes_staff_get_404_for_every_record_and_change_nothing(app, client, make, commune):
    other = make.tenant("kieu-ky", "Kiêu Kỵ")
    make.user("officer@kk.vn", "officer", other)
    ids = heritage_records(app, commune)
    login(client, "officer@kk.vn")
    urls = [f"/c/kieu-ky/heritage/staff/relics/{ids['relic_id']}", f"/c/kieu-ky/heritage/relics/{ids['relic_id']}",
            f"/c/kieu-ky/heritage/staff/artefacts/{ids['artefact_id']}",
            f"/c/kieu-ky/heritage/staff/steles/{ids['stele_id']}",
            f"/c/kieu-ky/heritage/staff/boards/{ids['board_id']}/a4.pdf"]
    for url in urls:
        assert client.get(url).status_code == 404, url
    token = csrf_token(client, "/account/password")
    posts = {f"/c/kieu-ky/heritage/staff/relics/{ids['relic_id']}": relic_form(name="Bị sửa"),
             f"/c/kieu-ky/heritage/staff/relics/{ids['relic_id']}/delete": {},
             f"/c/kieu-ky/heritage/staff/artefacts/{ids['artefact_id']}": {"inventory_number": "X", "name": "X"},
             f"/c/kieu-ky/heritage/staff/steles/{ids['stele_id']}/delete": {},
             f"/c/kieu-ky/heritage/staff/festivals/{ids['festival_id']}/delete": {},
             f"/c/kieu-ky/heritage/staff/boards/{ids['board_id']}/deactivate": {},
             f"/c/kieu-ky/heritage/staff/relics/{ids['relic_id']}/boards": {"number": "50"}}
    for url, data in posts.items():
        assert client.post(url, data={**data, "csrf_token": token}).status_code == 404, url
    # Through their own commune's URL with Bát Tràng's ids in the form: nothing either.
    assert client.post("/c/bat-trang/heritage/staff/relics/new",
                       data={**relic_form(), "csrf_token": token}).status_code == 404
    with app.app_context(), tenant_context(commune):
        assert db.session.scalar(select(Relic.name)) == "Đình Giang Cao"
        assert db.session.scalar(select(func.count()).select_from(Stele)) == 1
        assert db.session.scalar(select(func.count()).select_from(Festival)) == 1
        assert db.session.scalar(select(Board.active)) is True
    assert count(app, Board) == 1


def test_visitors_and_vendors_cannot_reach_the_register(app, client, commune):
    assert client.get("/c/bat-trang/heritage/staff/").status_code == 302  # to sign in
    relic_id = make_relic(app, commune, published=False)
    assert client.get(f"/c/bat-trang/heritage/relics/{relic_id}").status_code == 404  # unpublished
    login(client, "officer@bt.vn")
    assert client.get(f"/c/bat-trang/heritage/relics/{relic_id}").status_code == 200  # staff preview it


def test_the_commune_home_links_the_relics_and_staff_find_the_register_there(app, client, commune):
    make_relic(app, commune)
    home = app.test_client().get("/c/bat-trang/").get_data(as_text=True)
    assert 'href="/c/bat-trang/heritage/"' in home
    public = app.test_client().get("/c/bat-trang/heritage/").get_data(as_text=True)
    assert "Đình Giang Cao" in public and 'data-testid="register-link"' not in public
    login(client, "officer@bt.vn")
    assert 'href="/c/bat-trang/heritage/staff/"' in client.get("/c/bat-trang/heritage/").get_data(as_text=True)


@pytest.mark.parametrize("who", [None, "officer@bt.vn"])
def test_heritage_routes_answer_garbage_about_real_records_without_500(app, client, commune, uploads, monkeypatch, who):
    from tests.test_no_500 import GARBAGE

    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    ids = heritage_records(app, commune)
    if who:
        login(client, who)
    token = csrf_token(client, "/account/password" if who else "/login")
    garbage = {**GARBAGE, "inventory_number": "9" * 50, "lunar_day": "31", "lunar_month": "-1", "days": "1e9",
               "number": "0x10", "latitude": "nan", "longitude": "inf", "kind": "castle", "language": "xx",
               "installed_on": "2024-02-30", "ranked_year": "99999999999999999999", "summary": "\u202e"}
    failures, seen = [], set()
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("heritage"):
            continue
        values = {"tenant_slug": "bat-trang", "action": "deactivate", "size": "a4", "kind": "png", "name": "abc",
                  **ids}
        path = rule.build({arg: values[arg] for arg in rule.arguments}, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for data in ({**garbage, "csrf_token": token}, garbage, None):
                response = client.open(path, method=method, data=data)
                seen.add(response.status_code)
                if response.status_code >= 500:
                    failures.append(f"{method} {path} -> {response.status_code}")
                if method == "GET":
                    break
    assert failures == []
    assert 200 in seen and (400 in seen or who is None)
