"""Splits (issue 18): a predecessor divided between successors by part lines that place its markets (with their
stalls, vendors, accounts, sales and sign-ins), payment accounts, open dossiers and staff, one default successor
taking the rest (tenants/lineage.py, "splits"). Applied to the seeded demo: every count kept, each record where the
plan says, old addresses and codes resolving to the record's own successor, a second run changing nothing."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app import transactions
from app.extensions import db
from tenants.lineage import PlanError, apply_plan, parse_plan
from tenants.models import Reorganisation, ReorganisationLine, Tenant
from tenants.scoping import all_tenants
from tests.tenants.lineage.test_plan_2025 import counts, sums

OPEN = ("registered", "received", "processing", "awaiting_documents", "awaiting_fee", "processed")
SPLIT = {
    "key": "split-kieu-ky", "effective_date": "2025-07-01", "legal_basis": "Nghị quyết thử",
    "lines": [
        {"predecessor": "kieu-ky", "successor": "bat-trang", "whole": False, "markets": ["cho-kieu-ky"],
         "open_dossiers": True, "staff": ["officer.kieu-ky@gialam.demo"]},
        {"predecessor": "kieu-ky", "successor": "da-ton", "whole": False, "default": True},
    ],
}


def plan_file(tmp_path, plan, name="plan.json"):
    path = tmp_path / name
    path.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    return str(path)


def where(table: str, **match) -> dict[int, str]:
    """id -> slug of the commune holding each row of ``table`` matching ``match``."""
    t = db.metadata.tables[table]
    query = select(t.c[list(t.primary_key.columns)[0].name], Tenant.slug).join(Tenant, Tenant.id == t.c.tenant_id)
    for column, value in match.items():
        query = query.where(t.c[column].in_(value) if isinstance(value, tuple) else t.c[column] == value)
    with all_tenants():
        return dict(db.session.execute(query).all())


def tenant_id(slug: str) -> int:
    with all_tenants():
        return db.session.scalar(select(Tenant.id).where(Tenant.slug == slug))


def test_a_split_places_each_kind_of_record_keeps_every_count_and_runs_once(seeded, runner, client, tmp_path):
    path = plan_file(tmp_path, SPLIT)
    with seeded.app_context():
        kieu_ky = tenant_id("kieu-ky")
        before, money = counts(), sums()
        markets = where("markets", tenant_id=kieu_ky)
        stalls = where("stalls", tenant_id=kieu_ky)
        vendors = where("vendors", tenant_id=kieu_ky)
        stall_vendors = db.metadata.tables["stalls"].c.vendor_id
        with all_tenants():
            at_market = set(db.session.scalars(select(stall_vendors).where(
                db.metadata.tables["stalls"].c.tenant_id == kieu_ky, stall_vendors.is_not(None))))
        producers = set(vendors) - at_market
        sales = where("market_sales", tenant_id=kieu_ky)
        accounts = where("payment_accounts", tenant_id=kieu_ky)
        open_ = where("onestop_dossiers", tenant_id=kieu_ky, status=OPEN)
        closed = set(where("onestop_dossiers", tenant_id=kieu_ky)) - set(open_)
        notices = where("notices", tenant_id=kieu_ky)
        dossiers = db.metadata.tables["onestop_dossiers"]
        with all_tenants():
            codes = dict(db.session.execute(select(dossiers.c.id, dossiers.c.code)
                                            .where(dossiers.c.tenant_id == kieu_ky)).all())
        assert markets and stalls and vendors and sales and open_ and closed and notices

    dry = runner.invoke(args=["tenants", "reorganise", "--dry-run", path])
    assert dry.exit_code == 0, dry.output
    assert "kieu-ky -> bat-trang: would move" in dry.output and "kieu-ky -> da-ton: would move" in dry.output
    assert f"markets {len(markets)}" in dry.output
    with seeded.app_context():
        assert counts() == before and where("markets", tenant_id=kieu_ky) == markets

    done = runner.invoke(args=["tenants", "reorganise", path])
    assert done.exit_code == 0, done.output
    with seeded.app_context():
        assert counts() == before and sums() == money
        # The open dossiers' procedures are copied to Bát Tràng; the originals stay with the closed ones.
        moved_procedures = db.metadata.tables["onestop_dossiers"].c.procedure_id
        with all_tenants():
            used = set(db.session.scalars(select(moved_procedures).where(
                db.metadata.tables["onestop_dossiers"].c.id.in_(list(open_)))))
        assert set(where("onestop_procedures", id=tuple(used)).values()) == {"bat-trang"}
        # The market, with its stalls, its vendors, their sales, accounts and sign-ins, to Bát Tràng.
        assert set(where("markets", id=tuple(markets)).values()) == {"bat-trang"}
        assert set(where("stalls", id=tuple(stalls)).values()) == {"bat-trang"}
        assert set(where("vendors", id=tuple(at_market)).values()) == {"bat-trang"}
        # A producer with no stall whose account the plan does not place: the default.
        assert not producers or set(where("vendors", id=tuple(producers)).values()) == {"da-ton"}
        assert set(where("market_sales", id=tuple(sales)).values()) == {"bat-trang"}
        # Routed or defaulted, a moved record remembers where it came from (the figures of past periods read it).
        for table, ids in (("market_sales", sales), ("onestop_dossiers", open_), ("onestop_dossiers", closed)):
            origin = db.metadata.tables[table].c.origin_tenant_id
            with all_tenants():
                assert set(db.session.scalars(select(origin).where(
                    db.metadata.tables[table].c.id.in_(list(ids))))) == {kieu_ky}, table
        vendor_accounts = where("vendor_accounts", vendor_id=tuple(at_market))
        assert vendor_accounts and set(vendor_accounts.values()) == {"bat-trang"}
        assert set(where("payment_accounts", id=tuple(vendor_accounts)).values()) == {"bat-trang"}
        signs = where("vendor_memberships", vendor_id=tuple(at_market))
        assert signs and set(where("memberships", id=tuple(signs)).values()) == {"bat-trang"}
        # The commune's own fee account, closed dossiers, notices: the default, Đa Tốn; open dossiers to Bát Tràng.
        own = set(accounts) - set(where("vendor_accounts", vendor_id=tuple(vendors)))
        assert own and set(where("payment_accounts", id=tuple(own)).values()) == {"da-ton"}
        assert set(where("onestop_dossiers", id=tuple(open_)).values()) == {"bat-trang"}
        assert set(where("onestop_dossiers", id=tuple(closed)).values()) == {"da-ton"}
        assert set(where("notices", id=tuple(notices)).values()) == {"da-ton"}
        # Staff as the plan says: the officer to Bát Tràng, the admin to the default.
        memberships = db.metadata.tables["memberships"]
        users = db.metadata.tables["users"]
        with all_tenants():
            held = dict(db.session.execute(select(users.c.email, Tenant.slug)
                                           .join(memberships, memberships.c.user_id == users.c.id)
                                           .join(Tenant, Tenant.id == memberships.c.tenant_id)
                                           .where(users.c.email.in_(["officer.kieu-ky@gialam.demo",
                                                                     "admin.kieu-ky@gialam.demo"]))).all())
        assert held == {"officer.kieu-ky@gialam.demo": "bat-trang", "admin.kieu-ky@gialam.demo": "da-ton"}
        # Kiêu Kỵ closes on the effective date, its successors named; one line each, the default marked.
        kk = db.session.scalar(select(Tenant).where(Tenant.slug == "kieu-ky"))
        assert kk.status == "merged" and kk.successor.slug == "da-ton" and str(kk.valid_until) == "2025-06-30"
        lines = {line.successor.slug: line for line in db.session.scalars(select(ReorganisationLine))}
        assert set(lines) == {"bat-trang", "da-ton"} and not any(line.whole for line in lines.values())
        assert lines["da-ton"].is_default and not lines["bat-trang"].is_default
        assert lines["bat-trang"].moved["markets"] == len(markets)
        snapshot = (counts(), where("onestop_dossiers", id=tuple(codes)), where("memberships"))

    # Old addresses of records answer with THAT record's successor; the rest with the default.
    market_id, vendor_id = next(iter(markets)), min(at_market)  # a vendor at the market (a producer goes to the default)
    for path_, successor in ((f"/c/kieu-ky/market/markets/{market_id}", "bat-trang"),
                             (f"/c/kieu-ky/market/vendors/{vendor_id}/poster/a5.pdf", "bat-trang"),
                             (f"/c/kieu-ky/onestop/lookup/{codes[next(iter(open_))]}", "bat-trang"),
                             (f"/c/kieu-ky/onestop/lookup/{codes[next(iter(closed))]}/receipt", "da-ton"),
                             (f"/c/kieu-ky/onestop/d/{next(iter(open_))}", "bat-trang"),
                             ("/c/kieu-ky/onestop/lookup?code=x", "da-ton"),
                             (f"/c/kieu-ky/onestop/lookup?code={codes[next(iter(open_))]}", "bat-trang"),
                             ("/c/kieu-ky/", "da-ton")):
        old = client.get(path_)
        assert old.status_code == 301, path_
        assert old.headers["Location"].endswith(path_.replace("/c/kieu-ky", f"/c/{successor}")), path_
    code = codes[next(iter(open_))]
    page = client.get(f"/c/bat-trang/onestop/lookup/{code}")
    assert page.status_code == 200 and code in page.get_data(as_text=True)
    assert client.get(f"/api/dossiers/{code}").status_code == 200

    # The district's lineage page says the unit was split, and which successor took the rest.
    from tests.conftest import login

    login(client, "district@gialam.demo", seeded.config["DEMO_PASSWORD"])
    page = client.get("/district/units/kieu-ky/lineage").get_data(as_text=True)
    assert "Được chia tách ngày" in page and "bat-trang" in page and "nhận phần còn lại" in page
    # Signed in, an old address of a record that went to another successor than the default says so.
    moved = client.get(f"/c/kieu-ky/onestop/lookup/{code}", follow_redirects=True)
    assert moved.request.path == f"/c/bat-trang/onestop/lookup/{code}"
    assert "Xã Kiêu Kỵ đã được chia tách: hồ sơ, dữ liệu này nay do Xã Bát Tràng quản lý." in moved.get_data(
        as_text=True)

    again = runner.invoke(args=["tenants", "reorganise", path])
    assert again.exit_code == 0 and "already applied, nothing to do" in again.output
    with seeded.app_context():
        assert (counts(), where("onestop_dossiers", id=tuple(codes)), where("memberships")) == snapshot
        assert db.session.scalar(select(func.count()).select_from(Reorganisation)) == 1


# --- the plan's checks --------------------------------------------------------------------------------------------

def part(succ, **places):
    return {"predecessor": "kieu-ky", "successor": succ, "whole": False, **places}


@pytest.mark.parametrize("lines, message", [
    ([part("bat-trang"), part("da-ton")], "exactly one of its part lines is the default"),
    ([part("bat-trang", default=True), part("da-ton", default=True)], r"not 2 \(bat-trang, da-ton\)"),
    ([{"predecessor": "kieu-ky", "successor": "bat-trang"}, part("da-ton", default=True)], "a whole line and other"),
    ([{"predecessor": "kieu-ky", "successor": "bat-trang", "markets": ["cho-kieu-ky"]}], "a whole line moves"),
    ([part("bat-trang", markets=["cho-kieu-ky"]), part("da-ton", default=True, markets=["cho-kieu-ky"])],
     "markets cho-kieu-ky is placed twice"),
    ([part("bat-trang", accounts=["0011001234567"]), part("da-ton", default=True)], "BANK_BIN:ACCOUNT_NUMBER"),
    ([part("bat-trang", open_dossiers=True), part("da-ton", default=True, open_dossiers=True)], "open_dossiers"),
    ([part("bat-trang", markets="cho-kieu-ky"), part("da-ton", default=True)], "markets is a list"),
    ([part("bat-trang", stalls=[1]), part("da-ton", default=True)], "keys the plan format does not know: stalls"),
    ([part("kieu-ky"), part("da-ton", default=True)], "only the default line may name the predecessor"),
    ([part("bat-trang", default=True), part("bat-trang")], "two part lines to the same successor"),
])
def test_a_plan_that_does_not_say_where_things_go_is_refused(lines, message):
    with pytest.raises(PlanError, match=message):
        parse_plan(json.dumps(dict(SPLIT, lines=lines)).encode())


@pytest.fixture
def three(make):
    return {slug: make.tenant(slug) for slug in ("kieu-ky", "bat-trang", "da-ton")}


def test_a_plan_naming_what_the_unit_does_not_hold_is_refused_and_changes_nothing(app, runner, three, tmp_path):
    from tests.tenants.market.helpers import make_market

    make_market(app, three["kieu-ky"], "Chợ Kiêu Kỵ")
    plan = dict(SPLIT, lines=[part("bat-trang", markets=["cho-nowhere"], accounts=["970415:999999"],
                                   staff=["nobody@example.vn"], open_dossiers=["Thủ tục không có"]),
                              part("da-ton", default=True)])
    path = plan_file(tmp_path, plan)
    dry = runner.invoke(args=["tenants", "reorganise", "--dry-run", path])
    assert dry.exit_code == 1
    for said in ("kieu-ky: has no market cho-nowhere", "has no payment account 970415:999999",
                 "nobody with the e-mail nobody@example.vn", "no procedure named Thủ tục không có",
                 "market cho-kieu-ky -> da-ton"):
        assert said in dry.output, said
    wet = runner.invoke(args=["tenants", "reorganise", path])
    assert wet.exit_code == 1 and "has no market cho-nowhere" in wet.output
    with app.app_context():
        assert db.session.scalar(select(Tenant).where(Tenant.slug == "kieu-ky")).status == "active"
        assert set(where("markets").values()) == {"kieu-ky"}
        assert db.session.scalar(select(func.count()).select_from(Reorganisation)) == 0


def test_a_vendors_account_placed_away_from_its_market_is_a_decision(app, runner, three, tmp_path):
    from tests.tenants.market.helpers import make_market, make_vendor

    _market, stalls = make_market(app, three["kieu-ky"], "Chợ Kiêu Kỵ")
    vendor = make_vendor(app, three["kieu-ky"], stall_id=stalls[0])
    plan = dict(SPLIT, lines=[part("bat-trang", markets=["cho-kieu-ky"]),
                              part("da-ton", default=True, accounts=[f"{vendor.bank_bin}:{vendor.account_number}"])])
    dry = runner.invoke(args=["tenants", "reorganise", "--dry-run", plan_file(tmp_path, plan)])
    assert dry.exit_code == 1
    assert f"is vendor {vendor.id}'s, who goes with its market to bat-trang, not da-ton" in dry.output


@pytest.mark.usefixtures("bank_secrets_for_lineage")
def test_a_payment_created_before_a_split_and_paid_after_confirms_once_where_its_account_went(app, client, three):
    from app.payments.models import BankTransfer, PaymentIntent
    from tests.payments.helpers import ACCOUNT_A, event_types, make_account, make_intent, post_sepay, sepay_payload

    account = make_account(app, three["kieu-ky"], ACCOUNT_A)
    intent = make_intent(app, account, 120_000)
    plan = dict(SPLIT, lines=[part("bat-trang", accounts=[f"970436:{ACCOUNT_A}"]), part("da-ton", default=True)])
    with app.app_context():
        transactions.run(lambda: apply_plan(parse_plan(json.dumps(plan).encode())))
    payload = sepay_payload(ACCOUNT_A, intent.reference_code, 120_000)
    assert post_sepay(client, payload).status_code == 200
    assert post_sepay(client, payload).status_code == 200  # reported twice: still one payment
    with app.app_context(), all_tenants():
        paid = db.session.scalar(select(PaymentIntent).where(PaymentIntent.id == intent.id))
        transfers = db.session.scalars(select(BankTransfer)).all()
        assert paid.status == "succeeded" and paid.tenant_id == three["bat-trang"].id
        assert len(transfers) == 1 and transfers[0].tenant_id == three["bat-trang"].id
    assert event_types(app, intent.public_id).count("payment_intent.succeeded") == 1
    old = client.get(f"/c/kieu-ky/payments/{intent.public_id}")
    assert old.status_code == 301 and old.headers["Location"].endswith(f"/c/bat-trang/payments/{intent.public_id}")


def test_a_unit_whose_default_is_itself_stays_in_force_smaller(app, client, runner, three, make, tmp_path):
    from tests.tenants.market.helpers import make_market, make_vendor

    market_id, stalls = make_market(app, three["kieu-ky"], "Chợ Kiêu Kỵ")
    vendor = make_vendor(app, three["kieu-ky"], stall_id=stalls[0])
    make_market(app, three["kieu-ky"], "Chợ Đình")
    plan = dict(SPLIT, lines=[part("bat-trang", markets=["cho-kieu-ky"]), part("kieu-ky", default=True)])
    path = plan_file(tmp_path, plan)
    done = runner.invoke(args=["tenants", "reorganise", path])
    assert done.exit_code == 0, done.output
    assert "kieu-ky -> bat-trang: did move" in done.output and "kieu-ky keeps the rest" in done.output
    with app.app_context():
        kk = db.session.scalar(select(Tenant).where(Tenant.slug == "kieu-ky"))
        assert kk.status == "active" and kk.successor_id is None and kk.valid_until is None
        assert where("markets") == {market_id: "bat-trang", market_id + 1: "kieu-ky"}
        assert where("vendors", id=vendor.id) == {vendor.id: "bat-trang"}
        assert db.session.scalar(select(func.count()).select_from(ReorganisationLine)) == 1
    assert client.get("/c/kieu-ky/").status_code == 200
    # The market it gave away: its old address (a 404 at Kiêu Kỵ now) redirects to Bát Tràng; its own stays.
    from tests.conftest import login

    make.user("admin@kieu-ky.vn", "commune_admin", three["kieu-ky"])
    login(client, "admin@kieu-ky.vn")
    given = client.get(f"/c/kieu-ky/market/markets/{market_id}")
    assert given.status_code == 301 and given.headers["Location"].endswith(f"/c/bat-trang/market/markets/{market_id}")
    assert client.get(f"/c/kieu-ky/market/markets/{market_id + 1}").status_code == 200
    assert client.get("/c/kieu-ky/market/markets/999999").status_code == 404
    units = {u["slug"]: u for u in client.get("/api/communes").get_json()}
    assert units["kieu-ky"]["successors"] == ["bat-trang"] and units["bat-trang"]["predecessors"] == ["kieu-ky"]
    again = runner.invoke(args=["tenants", "reorganise", path])
    assert "already applied, nothing to do" in again.output
    with app.app_context():
        assert where("markets") == {market_id: "bat-trang", market_id + 1: "kieu-ky"}


# --- the July 2025 plan -------------------------------------------------------------------------------------------

def test_the_july_plan_applies_on_the_demo_after_the_january_plan(seeded, runner, client):
    from tests.tenants.lineage.test_plan_2025 import PLAN as JANUARY
    from tests.tenants.lineage.test_plan_2025 import per_tenant

    july = str(JANUARY.parent / "gia-lam-2025-07-01.json")
    first = runner.invoke(args=["tenants", "reorganise", "--dry-run", july])
    assert first.exit_code == 1 and "applies after gia-lam-2025-01-01, which has not been applied" in first.output
    assert runner.invoke(args=["tenants", "reorganise", str(JANUARY)]).exit_code == 0
    with seeded.app_context():
        before, money = counts(), sums()
        dossiers = per_tenant("onestop_dossiers")
        held = {t: per_tenant(t) for t in ("markets", "vendors", "payment_accounts")}
        da_ton = tenant_id("da-ton")
        open_ = where("onestop_dossiers", tenant_id=da_ton, status=OPEN)
        assert open_
    dry = runner.invoke(args=["tenants", "reorganise", "--dry-run", july])
    assert dry.exit_code == 0, dry.output
    assert "kim-duc -> bat-trang: would move" in dry.output and "kieu-ky keeps the rest" in dry.output
    assert "trau-quy: market cho-trau-quy -> trau-quy" in dry.output  # not placed: stays with the default
    done = runner.invoke(args=["tenants", "reorganise", july])
    assert done.exit_code == 0, done.output
    with seeded.app_context():
        assert counts() == before and sums() == money
        now = per_tenant("onestop_dossiers")
        assert now["bat-trang"] == dossiers["bat-trang"] + dossiers["kim-duc"] + dossiers["da-ton"]
        assert now["kieu-ky"] == dossiers["kieu-ky"] and now["trau-quy"] == dossiers["trau-quy"]
        assert set(where("onestop_dossiers", id=tuple(open_)).values()) == {"bat-trang"}
        for table, was in held.items():  # the markets of Kiêu Kỵ and Trâu Quỳ stay; Kim Đức's and Đa Tốn's go
            assert per_tenant(table).get("kieu-ky") == was.get("kieu-ky"), table
            assert per_tenant(table).get("trau-quy") == was.get("trau-quy"), table
            assert per_tenant(table).get("bat-trang", 0) == sum(
                was.get(slug, 0) for slug in ("bat-trang", "kim-duc", "da-ton")), table
        slugs = {t.slug: t for t in db.session.scalars(select(Tenant))}
        assert slugs["kim-duc"].status == slugs["da-ton"].status == "merged"
        assert slugs["da-ton"].successor.slug == "bat-trang" and str(slugs["da-ton"].valid_until) == "2025-06-30"
        assert slugs["kieu-ky"].status == slugs["trau-quy"].status == "active"
        assert len([t for t in slugs.values() if t.status == "active"]) == 15
        event = db.session.scalar(select(Reorganisation).where(Reorganisation.key == "gia-lam-2025-07-01"))
        assert "1656/NQ-UBTVQH15" in event.legal_basis and str(event.effective_date) == "2025-07-01"
    # Old addresses through both reorganisations: Kim Lan -> Kim Đức -> Bát Tràng; Đa Tốn -> Bát Tràng.
    assert client.get("/c/kim-lan/").headers["Location"].endswith("/c/bat-trang/")
    assert client.get("/c/da-ton/onestop/lookup").headers["Location"].endswith("/c/bat-trang/onestop/lookup")
    assert client.get("/c/kieu-ky/").status_code == 200
    units = {u["slug"]: u for u in client.get("/api/communes").get_json()}
    assert units["bat-trang"]["predecessors"] == ["dong-du", "kim-duc", "da-ton", "kieu-ky", "trau-quy"]
    assert units["kieu-ky"]["successors"] == ["bat-trang"]
    again = runner.invoke(args=["tenants", "reorganise", july])
    assert "already applied, nothing to do" in again.output
    with seeded.app_context():
        assert counts() == before and per_tenant("onestop_dossiers") == now


@pytest.fixture
def office(app, make, three):
    """Kiêu Kỵ's office: two procedures, a dossier of each still open, the first one's fee asked for on the
    commune's fee account (an intent that belongs with the account)."""
    from tenants.onestop import services
    from tenants.scoping import tenant_context
    from tests.payments.helpers import ACCOUNT_A, make_account
    from tests.tenants.onestop.conftest import counter_dossier, procedure, vn

    kieu_ky = three["kieu-ky"]
    officer = make.user("officer@kieuky.vn", "officer", kieu_ky)
    make_account(app, kieu_ky, ACCOUNT_A)
    with app.app_context(), tenant_context(kieu_ky):
        paid = procedure(name="Chứng thực bản sao", fee=8_000)
        free = procedure(name="Đăng ký khai sinh", fee=0)
        with_fee = counter_dossier(officer, paid, vn(2025, 6, 2, 8, 0))
        services.request_fee(with_fee, db.session.merge(officer))
        without = counter_dossier(officer, free, vn(2025, 6, 2, 9, 0))
        db.session.commit()
        assert with_fee.fee_intent_id is not None
        return {"paid": paid.id, "free": free.id, "with_fee": with_fee.id, "without": without.id}


def test_open_dossiers_placed_by_procedure_take_a_copy_of_it_and_a_fee_left_behind_is_a_decision(
        app, runner, three, office, tmp_path):
    plan = dict(SPLIT, lines=[part("bat-trang", open_dossiers=["Đăng ký khai sinh"]), part("da-ton", default=True)])
    done = runner.invoke(args=["tenants", "reorganise", plan_file(tmp_path, plan)])
    assert done.exit_code == 0, done.output
    dossiers = db.metadata.tables["onestop_dossiers"]
    with app.app_context(), all_tenants():
        assert where("onestop_dossiers") == {office["with_fee"]: "da-ton", office["without"]: "bat-trang"}
        copy = db.session.scalar(select(dossiers.c.procedure_id).where(dossiers.c.id == office["without"]))
        assert where("onestop_procedures") == {office["paid"]: "da-ton", office["free"]: "da-ton", copy: "bat-trang"}
        names = db.metadata.tables["onestop_procedures"]
        assert db.session.scalar(select(names.c.name).where(names.c.id == copy)) == "Đăng ký khai sinh"


def test_an_open_dossier_whose_fee_is_paid_into_an_account_going_elsewhere_is_a_decision(
        app, runner, three, office, tmp_path):
    plan = dict(SPLIT, lines=[part("bat-trang", open_dossiers=["Chứng thực bản sao"]), part("da-ton", default=True)])
    wet = runner.invoke(args=["tenants", "reorganise", plan_file(tmp_path, plan)])
    assert wet.exit_code == 1
    assert (f"kieu-ky: onestop_dossiers {office['with_fee']} belongs with records going to bat-trang and da-ton"
            in wet.output)
    with app.app_context():
        assert set(where("onestop_dossiers").values()) == {"kieu-ky"}
