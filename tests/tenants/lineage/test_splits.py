"""Splits (issue 18): a predecessor divided between successors by part lines that place its markets (with their
stalls, vendors, accounts, sales and sign-ins), payment accounts, open dossiers and staff, one default successor
taking the rest (tenants/lineage.py, "splits"). Applied to the seeded demo: every count kept, each record where the
plan says, old addresses and codes resolving to the record's own successor, a second run changing nothing."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app import demo, transactions
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


@pytest.fixture
def seeded(app):
    app.config.update(DEMO_ONESTOP_MONTHS=1, DEMO_MARKET_DAYS=3)
    with app.app_context():
        demo.seed(app.config["DEMO_PASSWORD"], payment_days=2)
    return app


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
    market_id, vendor_id = next(iter(markets)), next(iter(vendors))
    for path_, successor in ((f"/c/kieu-ky/market/markets/{market_id}", "bat-trang"),
                             (f"/c/kieu-ky/market/vendors/{vendor_id}/poster/a5.pdf", "bat-trang"),
                             (f"/c/kieu-ky/onestop/lookup/{codes[next(iter(open_))]}", "bat-trang"),
                             (f"/c/kieu-ky/onestop/lookup/{codes[next(iter(closed))]}/receipt", "da-ton"),
                             (f"/c/kieu-ky/onestop/d/{next(iter(open_))}", "bat-trang"),
                             ("/c/kieu-ky/onestop/lookup?code=x", "da-ton"),
                             ("/c/kieu-ky/", "da-ton")):
        old = client.get(path_)
        assert old.status_code == 301, path_
        assert old.headers["Location"].endswith(path_.replace("/c/kieu-ky", f"/c/{successor}")), path_
    code = codes[next(iter(open_))]
    page = client.get(f"/c/bat-trang/onestop/lookup/{code}")
    assert page.status_code == 200 and code in page.get_data(as_text=True)
    assert client.get(f"/api/dossiers/{code}").status_code == 200

    again = runner.invoke(args=["tenants", "reorganise", path])
    assert again.exit_code == 0 and "already applied, nothing to do" in again.output
    with seeded.app_context():
        assert (counts(), where("onestop_dossiers", id=tuple(codes)), where("memberships")) == snapshot
        assert db.session.scalar(select(func.count()).select_from(Reorganisation)) == 1
