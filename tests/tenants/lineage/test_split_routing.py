"""Splits routed set-based (issue #18, tenants/lineage.py "splits"): the decisions and placements that
test_splits.py does not reach: a vendor at two markets going two ways, a producer going with the account the plan
places, one not placed said as going to the default, and a routed record whose key the successor holds already."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from tenants.models import Reorganisation
from tenants.scoping import all_tenants
from tests.tenants.lineage.test_splits import SPLIT, part, plan_file, three, where  # noqa: F401 (fixture)
from tests.tenants.market.helpers import make_market, make_vendor


def test_a_vendor_at_two_markets_going_two_ways_is_a_decision_and_nothing_moves(app, runner, three, tmp_path):
    _first, stalls = make_market(app, three["kieu-ky"], "Chợ Kiêu Kỵ")
    _second, others = make_market(app, three["kieu-ky"], "Chợ Gạch")
    vendor = make_vendor(app, three["kieu-ky"], stall_id=stalls[0])
    table = db.metadata.tables["stalls"]
    with app.app_context(), all_tenants():
        db.session.execute(table.update().where(table.c.id == others[0]).values(vendor_id=vendor.id))
        db.session.commit()
    plan = dict(SPLIT, lines=[part("bat-trang", markets=["cho-kieu-ky"]), part("da-ton", default=True)])
    wet = runner.invoke(args=["tenants", "reorganise", plan_file(tmp_path, plan)])
    assert wet.exit_code == 1
    assert (f"kieu-ky: vendor {vendor.id} has stalls in markets going to bat-trang and da-ton: place those markets "
            "together") in wet.output
    with app.app_context():
        assert set(where("markets").values()) == {"kieu-ky"} and set(where("vendors").values()) == {"kieu-ky"}
        assert db.session.scalar(select(func.count()).select_from(Reorganisation)) == 0


def test_a_producer_goes_with_the_account_the_plan_places_and_one_not_placed_to_the_default(
        app, runner, three, tmp_path):
    make_market(app, three["kieu-ky"], "Chợ Kiêu Kỵ")
    placed = make_vendor(app, three["kieu-ky"], name="Gạo Kiêu Kỵ")
    left = make_vendor(app, three["kieu-ky"], name="Mật ong")
    vendors = db.metadata.tables["vendors"]
    with app.app_context(), all_tenants():
        left_slug = db.session.scalar(select(vendors.c.slug).where(vendors.c.id == left.id))
    plan = dict(SPLIT, lines=[part("bat-trang", accounts=[f"{placed.bank_bin}:{placed.account_number}"]),
                              part("da-ton", default=True)])
    path = plan_file(tmp_path, plan)
    dry = runner.invoke(args=["tenants", "reorganise", "--dry-run", path])
    assert dry.exit_code == 0, dry.output
    assert f"kieu-ky: vendor {left_slug} (no stall, no account placed) -> da-ton" in dry.output
    assert "kieu-ky -> bat-trang: would move" in dry.output
    done = runner.invoke(args=["tenants", "reorganise", path])
    assert done.exit_code == 0, done.output
    with app.app_context():
        assert where("vendors", id=(placed.id, left.id)) == {placed.id: "bat-trang", left.id: "da-ton"}
        accounts = where("vendor_accounts", vendor_id=(placed.id, left.id))
        assert sorted(accounts.values()) == ["bat-trang", "da-ton"]
        assert set(where("payment_accounts", id=tuple(accounts)).values()) == {"bat-trang", "da-ton"}
        signs = where("vendor_memberships", vendor_id=(placed.id,))
        assert signs and set(where("memberships", id=tuple(signs)).values()) == {"bat-trang"}
        assert set(where("markets").values()) == {"da-ton"}


def test_a_market_whose_slug_the_successor_holds_already_is_a_decision(app, runner, three, tmp_path):
    make_market(app, three["kieu-ky"], "Chợ Kiêu Kỵ")
    make_market(app, three["bat-trang"], "Chợ Kiêu Kỵ")
    plan = dict(SPLIT, lines=[part("bat-trang", markets=["cho-kieu-ky"]), part("da-ton", default=True)])
    dry = runner.invoke(args=["tenants", "reorganise", "--dry-run", plan_file(tmp_path, plan)])
    assert dry.exit_code == 1
    assert "markets: slug=cho-kieu-ky of kieu-ky exists in bat-trang already" in dry.output
