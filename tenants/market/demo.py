"""The market demo: Trâu Quỳ market (84 stalls, 84 household businesses, every one with a bank account), smaller
markets in four other communes where not every vendor has one yet, and a few months of sales, mostly by QR.

Vendor logins are ``vendor.<commune slug>.<n>@gialam.demo`` with the demo password. Everything is written in bulk
(Core multi-row INSERTs, one password hash for all) so the first ``make run`` stays quick. The history's sales are
marked ``demo`` and carry no payment intent; sales made in the running demo go through the real payments.
Drawn from generators seeded with the commune's slug: the same demo on every machine.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable

from flask import current_app
from sqlalchemy import insert, select

from app.auth.models import User
from app.auth.passwords import hash_password
from app.extensions import db
from app.formatting import VN_TZ, to_local
from app.text import slugify
from tenants.market.models import Market, MarketSale, Stall
from tenants.queries import get_by_slug
from tenants.scoping import all_tenants
from tenants.vendors import payments
from tenants.vendors import services as vendor_services
from tenants.vendors.models import Vendor
from tenants.vendors.payments import holder_name_for_banks

DEMO_DOMAIN = "gialam.demo"
BANKS = ("970415", "970436", "970418", "970405", "970422", "970407", "970432", "970423")

# (commune slug, market name, address, opening hours, vendors, share of vendors with a bank account, QR share)
MARKETS = (
    ("trau-quy", "Chợ Trâu Quỳ", "Ngõ 1 Nguyễn Mậu Tài, Trâu Quỳ, Gia Lâm", "05:00–19:00 hằng ngày", 84, 1.0, 0.8),
    ("ninh-hiep", "Chợ Ninh Hiệp", "Thôn 3, Ninh Hiệp, Gia Lâm", "04:30–17:00 hằng ngày", 16, 0.75, 0.6),
    ("bat-trang", "Chợ Gốm Bát Tràng", "Giang Cao, Bát Tràng, Gia Lâm", "07:00–18:00 hằng ngày", 12, 0.67, 0.65),
    ("thi-tran-yen-vien", "Chợ Yên Viên", "Phố Hà Huy Tập, Yên Viên, Gia Lâm", "05:00–18:30 hằng ngày", 14, 0.57,
     0.55),
    ("kieu-ky", "Chợ Kiêu Kỵ", "Thôn Kiêu Kỵ, Kiêu Kỵ, Gia Lâm", "05:30–12:00 hằng ngày", 10, 0.5, 0.5),
)

# goods category, share of stalls, typical sale (thousand đồng: low, high), business name patterns
GOODS = (
    ("vegetables", 0.25, (10, 60), "Rau sạch {name}"),
    ("fruit", 0.1, (20, 150), "Hoa quả {name}"),
    ("meat", 0.15, (50, 350), "Thịt lợn {name}"),
    ("fish", 0.1, (40, 300), "Cá tươi {name}"),
    ("poultry", 0.08, (30, 250), "Gà vịt {name}"),
    ("rice", 0.05, (60, 400), "Gạo ngon {name}"),
    ("dry_goods", 0.1, (15, 200), "Đồ khô {name}"),
    ("cooked_food", 0.07, (15, 80), "Bánh cuốn {name}"),
    ("flowers", 0.03, (20, 200), "Hoa tươi {name}"),
    ("clothing", 0.04, (80, 500), "Quần áo {name}"),
    ("household_goods", 0.03, (30, 300), "Tạp hóa {name}"),
)
CERAMICS = ("ceramics", 1.0, (80, 900), "Gốm {name}")
SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô", "Dương", "Đinh")
MIDDLE = ("Thị", "Văn", "Thị", "Đức", "Thị", "Minh", "Thu", "Ngọc")
GIVEN = ("Hường", "Lan", "Mai", "Hoa", "Tuấn", "Hùng", "Nga", "Thảo", "Bình", "Dũng", "Hạnh", "Liên", "Sơn", "Yến",
         "Phương", "Đào", "Quang", "Thủy", "Hà", "Trang", "Cúc", "Tâm", "Vân", "Khánh")


def vendor_email(slug: str, n: int) -> str:
    return f"vendor.{slug}.{n}@{DEMO_DOMAIN}"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def seed(password: str, *, days: int | None = None, now: datetime | None = None,
         echo: Callable[[str], None] | None = None) -> dict[str, int]:
    """Idempotent per commune: a commune that already has its demo market is left alone. Returns counts."""
    days = current_app.config.get("DEMO_MARKET_DAYS", 90) if days is None else days
    now = now or _now()
    password_hash = hash_password(password)  # once: every demo vendor shares the demo password
    counts = {"markets": 0, "vendors": 0, "market_sales": 0}
    for index, spec in enumerate(MARKETS, start=1):
        tenant = get_by_slug(spec[0])
        if tenant is None:
            continue
        with all_tenants():
            if db.session.scalar(select(Market.id).where(Market.tenant_id == tenant.id,
                                                         Market.slug == slugify(spec[1]))):
                continue
            vendors, sales = _seed_market(tenant, spec, password_hash, days, now)
            db.session.commit()  # bulk seeding: a market at a time, so a second run skips the markets already there
        counts["markets"] += 1
        counts["vendors"] += vendors
        counts["market_sales"] += sales
        if echo:
            echo(f"  market {index}/{len(MARKETS)}: {spec[1]} ({vendors} vendors, {sales} sales)")
    if echo and counts["vendors"]:
        echo(f"Market vendors sign in as {vendor_email('<slug>', '<n>')} (e.g. {vendor_email('trau-quy', 1)}).")
    return counts


def _goods_for(rng: random.Random, slug: str) -> tuple:
    if slug == "bat-trang" and rng.random() < 0.6:
        return CERAMICS
    return rng.choices(GOODS, weights=[g[1] for g in GOODS])[0]


def _seed_market(tenant, spec, password_hash: str, days: int, now: datetime) -> tuple[int, int]:
    slug, name, address, hours, vendor_count, with_account_share, qr_share = spec
    rng = random.Random(slug)
    [market_id] = db.session.execute(
        insert(Market).returning(Market.id),
        [{"tenant_id": tenant.id, "name": name, "slug": slugify(name), "address": address, "opening_hours": hours,
          "active": True}],
    ).scalars().all()

    rows_per_line = 14
    stalls, vendors, owners = [], [], []
    for n in range(1, vendor_count + 1):
        goods = _goods_for(rng, slug)
        owner = f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
        row = "ABCDEFGHIJ"[(n - 1) // rows_per_line]
        number = f"{row}{(n - 1) % rows_per_line + 1:02d}"
        business = goods[3].format(name=owner.split()[-1]) + f" ({number})"
        stalls.append({"tenant_id": tenant.id, "market_id": market_id, "number": number, "row": f"Dãy {row}",
                       "goods_category": goods[0]})
        vendors.append({"tenant_id": tenant.id, "kind": "household", "business_name": business,
                        "slug": f"{slugify(business)}-{n}"[:120], "owner_name": owner,
                        "phone": f"09{rng.randint(10_000_000, 99_999_999)}", "tax_code": None,
                        "goods_category": goods[0], "description": "", "active": True})
        owners.append((owner, goods))
    vendor_ids = db.session.execute(insert(Vendor).returning(Vendor.id, sort_by_parameter_order=True),
                                    vendors).scalars().all()
    for stall, vendor_id in zip(stalls, vendor_ids, strict=True):
        stall["vendor_id"] = vendor_id
    db.session.execute(insert(Stall), stalls)

    # Bank accounts: every vendor at Trâu Quỳ, a share elsewhere (adoption below 100 %).
    with_account = set(rng.sample(range(vendor_count), round(vendor_count * with_account_share)))
    accounts = [{"tenant_id": tenant.id, "vendor_id": vendor_ids[i],
                 "label": vendors[i]["business_name"][:120], "bank_bin": rng.choice(BANKS),
                 "account_number": f"{rng.randint(10, 99)}{tenant.code}{i + 1:04d}{rng.randint(100, 999)}",
                 "holder_name": holder_name_for_banks(owners[i][0])}
                for i in sorted(with_account)]
    payments.insert_vendor_accounts(accounts)

    user_ids = db.session.execute(insert(User).returning(User.id, sort_by_parameter_order=True), [
        {"email": vendor_email(slug, i + 1), "name": owners[i][0], "phone": vendors[i]["phone"],
         "password_hash": password_hash, "active": True} for i in range(vendor_count)
    ]).scalars().all()
    vendor_services.bind_users([{"user_id": user_id, "tenant_id": tenant.id, "vendor_id": vendor_id}
                                for user_id, vendor_id in zip(user_ids, vendor_ids, strict=True)])

    sales = _history(rng, tenant.id, market_id, vendor_ids, stalls, owners, with_account, qr_share, days, now)
    for start in range(0, len(sales), 5000):
        db.session.execute(insert(MarketSale), sales[start:start + 5000])
    return vendor_count, len(sales)


def _history(rng, tenant_id, market_id, vendor_ids, stalls, owners, with_account, qr_share, days, now) -> list[dict]:
    """Sales of ``days`` days up to ``now`` in market hours; vendors with an account are paid mostly by QR, and the
    QR share grows over the period (the pilot catching on)."""
    today = to_local(now).date()
    rows = []
    for days_ago in range(days - 1, -1, -1):
        day: date = today - timedelta(days=days_ago)
        progress = 1 - days_ago / max(days, 1)  # 0 at the start of the period, 1 today
        for i, vendor_id in enumerate(vendor_ids):
            goods = owners[i][1]
            for _ in range(rng.randint(1, 6)):
                moment = datetime.combine(day, time(rng.randint(5, 17), rng.randint(0, 59)), tzinfo=VN_TZ)
                when = moment.astimezone(timezone.utc)
                if when > now:
                    continue
                low, high = goods[2]
                amount = rng.randint(low, high) * 1000
                by_qr = i in with_account and rng.random() < qr_share * (0.75 + 0.35 * progress)
                rows.append({"tenant_id": tenant_id, "vendor_id": vendor_id, "market_id": market_id,
                             "stall_number": stalls[i]["number"], "goods_category": goods[0], "amount": amount,
                             "note": "", "method": "qr" if by_qr else "cash", "status": "paid",
                             "confirmation": "bank" if by_qr else "cash", "intent_id": None, "demo": True,
                             "created_at": when, "paid_at": when + timedelta(seconds=rng.randint(5, 40))})
    return rows
