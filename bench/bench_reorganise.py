"""A reorganisation of the national reorganisation's size, applied to the scale data set (`flask seed-scale`),
timed: the plan is written from the communes in the database (every three communes in code order: the first two
merge into the third, which grows; every 50th group into a new unit instead), then `--dry-run` and the real run,
each in one transaction through the same code as `flask tenants reorganise`.

Run against a PostgreSQL database loaded by seed-scale, as the application role (row-level security is paid for as
in production), on a copy you can throw away (the run changes it; `--rollback` undoes it at the end instead):

    DATABASE_URL=postgresql://gialam_app@127.0.0.1:5432/reorg_bench .venv/bin/python bench/bench_reorganise.py

Prints the plan's size, the seconds of each phase, the rows moved per table, and checks that the row counts of
every moved table are the same after as before.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("APP_ENV", "development")

from sqlalchemy import func, select  # noqa: E402

from app import create_app, transactions  # noqa: E402
from app.extensions import db  # noqa: E402
from tenants import lineage  # noqa: E402
from tenants.lineage import apply_plan, parse_plan  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.scoping import all_tenants  # noqa: E402

COUNTED = ("onestop_dossiers", "onestop_ratings", "payment_intents", "market_sales", "products", "vendors", "stalls",
           "markets", "payment_accounts", "sub_orders", "order_lines")


def national_plan(slugs: list[str], key: str, markets: dict[str, list[str]] | None = None,
                  accounts: dict[str, list[str]] | None = None) -> dict:
    """Every three communes in code order, the first two merge into the third; every 50th group into a new unit;
    every 10th group (``markets`` and ``accounts`` given: each commune's market slugs and own fee accounts) its first
    commune is split instead: its first market (stalls, vendors, their accounts and sales), its own fee account and
    its open dossiers go to the group's successor, the rest (the default) to the previous group's."""
    lines, new_units, previous = [], [], None
    for i in range(0, len(slugs) - 2, 3):
        a, b, c = slugs[i:i + 3]
        group = i // 3
        if group % 50 == 0:  # a new unit (new slug, reused statistics code)
            succ = f"hop-nhat-{key.rsplit('-', 1)[-1]}-{group}"
            new_units.append({"slug": succ, "name": f"Hợp Nhất {group}", "kind": "xã", "code": f"{group % 100000:05d}"})
            lines += [{"predecessor": s, "successor": succ, "whole": True} for s in (a, b, c)]
        elif group % 10 == 5 and markets is not None and previous is not None:  # a split between two successors
            succ = c
            lines += [
                {"predecessor": a, "successor": c, "whole": False, "markets": markets.get(a, [])[:1],
                 "accounts": (accounts or {}).get(a, [])[:1], "open_dossiers": True},
                {"predecessor": a, "successor": previous, "whole": False, "default": True},
                {"predecessor": b, "successor": c, "whole": True},
            ]
        else:
            succ = c
            lines += [{"predecessor": s, "successor": c, "whole": True} for s in (a, b)]
        previous = succ
    return {"key": key, "effective_date": "2025-07-01", "legal_basis": "benchmark: national-size plan",
            "new_units": new_units, "lines": lines}


def placeable() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Each commune's market slugs, and its own fee accounts as "BANK_BIN:ACCOUNT_NUMBER" (two queries)."""
    tables = db.metadata.tables
    markets, accounts_, links = tables["markets"], tables["payment_accounts"], tables["vendor_accounts"]
    out_markets: dict[str, list[str]] = {}
    out_accounts: dict[str, list[str]] = {}
    with all_tenants():
        for slug, market in db.session.execute(select(Tenant.slug, markets.c.slug).join(
                markets, markets.c.tenant_id == Tenant.id).order_by(markets.c.id)):
            out_markets.setdefault(slug, []).append(market)
        for slug, bank, number in db.session.execute(
                select(Tenant.slug, accounts_.c.bank_bin, accounts_.c.account_number)
                .join(accounts_, accounts_.c.tenant_id == Tenant.id)
                .where(~accounts_.c.id.in_(select(links.c.account_id))).order_by(accounts_.c.id)):
            out_accounts.setdefault(slug, []).append(f"{bank}:{number}")
    return out_markets, out_accounts


SPENT: dict[str, list] = {}


def timed(module, name: str) -> None:
    """Accumulate the time and calls of ``module.name`` (the phases of a run)."""
    inner = getattr(module, name)

    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            spent = SPENT.setdefault(name, [0.0, 0])
            spent[0] += time.perf_counter() - started
            spent[1] += 1

    setattr(module, name, wrapper)


def counts() -> dict[str, int]:
    with all_tenants():
        return {t: db.session.scalar(select(func.count()).select_from(db.metadata.tables[t])) for t in COUNTED}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rollback", action="store_true", help="undo the real run at the end (nothing is kept)")
    parser.add_argument("--no-splits", action="store_true", help="merges only (the plan of the first measurements)")
    args = parser.parse_args()
    for name in ("_what_moves", "_clashes", "_move_all", "_merge_rows", "_renumber", "_move_memberships",
                 "_route_split", "_follow_all", "_routed_clashes", "_move_routed"):
        timed(lineage, name)
    timed(lineage.audit, "record")
    app = create_app({"SQLALCHEMY_DATABASE_URI": os.environ["DATABASE_URL"]})
    with app.app_context():
        slugs = list(db.session.scalars(select(Tenant.slug).where(Tenant.status == "active").order_by(Tenant.code, Tenant.id)))
        places = (None, None) if args.no_splits else placeable()
        raw = json.dumps(national_plan(slugs, f"bench-national-{int(time.time())}", *places)).encode()
        plan = parse_plan(raw)
        split = len({line.predecessor for line in plan.lines if not line.whole})
        before = counts()
        db.session.commit()
        print(f"{len(slugs)} communes in force; plan: {len(plan.lines)} lines, {len(plan.new_units)} new units, "
              f"{split} split between two successors, {len(raw) // 1024} KiB")
        started = time.perf_counter()
        report = transactions.run(lambda: apply_plan(plan, dry_run=True))
        print(f"dry run: {time.perf_counter() - started:.1f} s, {len(report.decisions)} decisions")
        for decision in report.decisions[:10]:
            print("  ", decision)
        started = time.perf_counter()
        if args.rollback:
            report = apply_plan(plan)
            db.session.flush()
        else:
            report = transactions.run(lambda: apply_plan(plan))
        elapsed = time.perf_counter() - started
        moved: dict[str, int] = {}
        for tables in report.moved.values():
            for table, n in tables.items():
                moved[table] = moved.get(table, 0) + n
        routed = sum(n for line in plan.lines if not line.whole and not line.default
                     for n in report.moved.get((line.predecessor, line.successor), {}).values())
        print(f"applied: {elapsed:.1f} s, {sum(moved.values()):,} rows moved, {routed:,} of them routed by part "
              f"lines to a successor other than the default")
        for name, (seconds, calls) in sorted(SPENT.items(), key=lambda kv: -kv[1][0]):
            print(f"  {name:28} {seconds:8.1f} s  {calls:>6} calls")
        for table, n in sorted(moved.items(), key=lambda kv: -kv[1]):
            print(f"  {table:28} {n:>10,}")
        after = counts()
        print("counts equal before and after:", after == before)
        in_force = db.session.scalar(select(func.count()).select_from(Tenant).where(Tenant.status == "active"))
        print(f"communes in force after: {in_force}")
        if args.rollback:
            db.session.rollback()


if __name__ == "__main__":
    main()
