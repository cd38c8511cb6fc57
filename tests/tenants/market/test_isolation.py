"""A vendor never sees or changes another vendor's data: 404, also inside the same commune, and nothing of another
commune. Staff pages do not exist for vendors; one commune's staff do not see another's vendors."""

from __future__ import annotations

import pytest

from tests.conftest import csrf_token, login
from tests.tenants.market.helpers import make_market, make_vendor, sale, sales_of


@pytest.fixture
def world(app, make):
    trau_quy = make.tenant("trau-quy", "Trâu Quỳ")
    bat_trang = make.tenant("bat-trang", "Bát Tràng")
    _, stalls = make_market(app, trau_quy)
    _, other_stalls = make_market(app, bat_trang, "Chợ Bát Tràng")
    a = make_vendor(app, trau_quy, stall_id=stalls[0])
    b = make_vendor(app, trau_quy, stall_id=stalls[1])
    c = make_vendor(app, bat_trang, stall_id=other_stalls[0])
    make.user("admin@trauquy.vn", "commune_admin", trau_quy)
    make.user("admin@battrang.vn", "commune_admin", bat_trang)
    return {"a": a, "b": b, "c": c, "stalls": stalls, "other_stalls": other_stalls}


def qr_sale_of(app, vendor, amount="50000") -> int:
    client = app.test_client()
    login(client, vendor.email)
    base = f"/c/{vendor.tenant_slug}/market/me/sales"
    response = client.post(base, data={"amount": amount, "method": "qr", "csrf_token": csrf_token(client, base)})
    return int(response.headers["Location"].split("/")[-1])


def test_a_vendor_gets_404_for_another_vendors_sale_in_the_same_commune(app, client, world):
    b_sale = qr_sale_of(app, world["b"])
    login(client, world["a"].email)
    base = "/c/trau-quy/market/me/sales"
    assert client.get(f"{base}/{b_sale}").status_code == 404
    assert client.get(f"{base}/{b_sale}/status").status_code == 404
    token = csrf_token(client, base)
    assert client.post(f"{base}/{b_sale}/confirm", data={"csrf_token": token}).status_code == 404
    assert sale(app, b_sale).status == "pending"  # nothing changed
    # the ledger and its CSV hold only A's own sales
    assert client.get(base).get_data(as_text=True).count('class="sale-amount"') == 0
    assert client.get(f"{base}.csv").get_data(as_text=True).count("\n") == 1  # the header only


def test_a_vendor_gets_404_for_another_vendors_stall_poster(app, client, world):
    login(client, world["a"].email)
    assert client.get(f"/c/trau-quy/market/me/poster/a6.png?stall={world['stalls'][0]}").status_code == 200
    assert client.get(f"/c/trau-quy/market/me/poster/a6.png?stall={world['stalls'][1]}").status_code == 404
    assert client.get(f"/c/trau-quy/market/me/poster/a6.png?stall={world['other_stalls'][0]}").status_code == 404


def test_a_vendor_gets_404_in_another_commune(app, client, world):
    c_sale = qr_sale_of(app, world["c"])
    login(client, world["a"].email)
    for path in ("/c/bat-trang/market/me/sales", f"/c/bat-trang/market/me/sales/{c_sale}",
                 "/c/bat-trang/vendor/profile", "/c/bat-trang/vendor/bank", "/c/bat-trang/market/me/poster",
                 "/c/bat-trang/vendor/transfers",
                 f"/c/trau-quy/market/me/sales/{c_sale}"):
        assert client.get(path).status_code == 404, path


def test_staff_pages_do_not_exist_for_vendors(app, client, world):
    login(client, world["a"].email)
    for path in ("/c/trau-quy/market/", "/c/trau-quy/market/vendors", f"/c/trau-quy/market/vendors/{world['b'].id}",
                 "/c/trau-quy/market/vendors/new", "/c/trau-quy/market/markets",
                 f"/c/trau-quy/market/vendors/{world['b'].id}/poster/a5.pdf"):
        assert client.get(path).status_code == 404, path


def test_another_communes_admin_gets_404_for_this_communes_vendors(app, client, world):
    login(client, "admin@battrang.vn")
    a = world["a"].id
    assert client.get(f"/c/trau-quy/market/vendors/{a}").status_code == 404
    assert client.get(f"/c/bat-trang/market/vendors/{a}").status_code == 404  # by id, through its own commune
    token = csrf_token(client, "/c/bat-trang/market/vendors")
    assert client.post(f"/c/bat-trang/market/vendors/{a}/deactivate", data={"csrf_token": token}).status_code == 404
    assert client.post("/c/bat-trang/market/stalls/assign",
                       data={"stall_id": world["stalls"][0], "vendor_id": "", "csrf_token": token}).status_code == 404
    # nor can a stall of this commune be let to a vendor of the other (the vendor does not exist there)
    client = app.test_client()
    login(client, "admin@trauquy.vn")
    token = csrf_token(client, "/c/trau-quy/market/vendors/new")
    client.post("/c/trau-quy/market/stalls/assign",
                data={"stall_id": world["stalls"][2], "vendor_id": str(world["c"].id), "csrf_token": token})
    assert sales_of(app, world["c"].id) == []
    from app.extensions import db
    from tenants.market.models import Stall
    from tenants.scoping import all_tenants

    with app.app_context(), all_tenants():
        assert db.session.get(Stall, world["stalls"][2]).vendor_id is None
