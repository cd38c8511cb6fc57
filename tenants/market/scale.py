"""The markets of the scale data (``flask seed-scale``, app/scale.py): a market in every commune with stalls let to
the seeded vendors (``run.loaded["vendors"]``), then their sales, by QR (an intent on the vendor's own account)
or in cash."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from app.formatting import VN_TZ
from app.scale import ScaleError, copy_rows, json_object, reserve_ids, spread
from app.text import slugify
from tenants.market.models import Market, MarketSale, Stall
from tenants.market.payments import SALE_PURPOSE

# Typical sale at a stall, in thousand đồng (low, high), per goods category (tenants/market/demo.py's figures).
SALE_RANGES = {"vegetables": (10, 60), "fruit": (20, 150), "meat": (50, 350), "fish": (40, 300),
               "poultry": (30, 250), "rice": (60, 400), "dry_goods": (15, 200), "cooked_food": (15, 80),
               "flowers": (20, 200), "clothing": (80, 500), "household_goods": (30, 300), "ceramics": (80, 900),
               "other": (20, 200)}
FREE_STALL_GOODS = ("vegetables", "meat", "fish")
STALLS_PER_ROW = 20
STALL_ROWS = "ABCDEFGHJKLM"
MARKET_OPEN, MARKET_HOURS = 5 * 60, 13  # sales from 05:00 to 17:59, Hà Nội time
SALE_CANCELED_SHARE = 0.03  # QR sales whose transfer never came (the intent was abandoned)

MARKET_COLUMNS = ("id", "tenant_id", "name", "slug", "address", "opening_hours", "active", "created_at")
STALL_COLUMNS = ("id", "tenant_id", "market_id", "number", "row", "goods_category", "vendor_id")
SALE_COLUMNS = (
    "id", "tenant_id", "vendor_id", "market_id", "stall_number", "goods_category", "amount", "note", "method",
    "status", "confirmation", "intent_id", "demo", "created_at", "paid_at")


def _market_days(now: datetime, months: int) -> list[datetime]:
    """Hà Nội midnights (as UTC instants) of every day of the last ``months`` months before today: markets open
    every day, and nothing is sold in the future."""
    today = now.astimezone(VN_TZ).date()
    day, days = today - timedelta(days=round(30.44 * months)), []
    while day < today:
        days.append(datetime.combine(day, datetime.min.time(), tzinfo=VN_TZ).astimezone(timezone.utc))
        day += timedelta(days=1)
    return days


def load(run) -> None:
    with run.timed("market"):
        _load(run)


def _load(run) -> None:
    """A market in every commune (two in one of seven), a stall for four vendors of the commune out of five plus
    two free stalls per market, then S sales at those stalls over ``months`` months. A QR sale is paid by a
    ``market_sale`` intent on the vendor's own account for exactly its amount (``record_qr_sale`` then the bank's
    notification), 3 % of them canceled unpaid; a cash sale has no intent. The QR share differs per commune and grows
    over the period, as the demo's does."""
    connection, tenants, sizes, now, bar, report, money = (run.connection(), run.tenants, run.sizes, run.now, run.bar,
                                                           run.report, run.money)
    vendors = run.loaded.get("vendors", [])
    rng = run.generator("market")
    per_commune: dict[int, list] = {}
    for i, vendor in enumerate(vendors):
        if i % 5 != 4:  # one vendor in five sells on the marketplace only
            per_commune.setdefault(vendor.tenant_id, []).append(vendor)
    counts = [2 if t % 7 == 3 else 1 for t in range(len(tenants))]
    first_market = reserve_ids(connection, Market.__table__, sum(counts))
    markets, stalls, sellers = [], [], []  # sellers: (vendor, market id, stall number, goods)
    opened = now - timedelta(days=round(30.44 * sizes.months) + 30)
    for (tenant_id, _code, display), count in zip(tenants, counts, strict=True):
        ids = [first_market + len(markets) + m for m in range(count)]
        place = next((display[len(kind):] for kind in ("Thị trấn ", "Phường ", "Xã ") if display.startswith(kind)),
                     display)
        for m, market_id in enumerate(ids):
            name = f"Chợ {place}" if m == 0 else f"Chợ đầu mối {place}"
            markets.append((market_id, tenant_id, name, slugify(name)[:120], f"Trung tâm {display}",
                            "05:00–18:00 hằng ngày", True, opened))
        holders = per_commune.get(tenant_id, [])
        numbers = [0] * count
        for k, vendor in enumerate(holders):
            m = k % count
            stalls.append((ids[m], tenant_id, numbers[m], vendor.goods, vendor.id))
            numbers[m] += 1
        for m in range(count):
            for free in range(2):
                stalls.append((ids[m], tenant_id, numbers[m], FREE_STALL_GOODS[free], None))
                numbers[m] += 1
    first_stall = reserve_ids(connection, Stall.__table__, len(stalls))
    stall_rows = []
    for i, (market_id, tenant_id, position, goods, vendor_id) in enumerate(stalls):
        if position < len(STALL_ROWS) * STALLS_PER_ROW:  # A01 .. A20, B01 .. in rows "Dãy A", "Dãy B" ...
            letter = STALL_ROWS[position // STALLS_PER_ROW]
            number, row = f"{letter}{position % STALLS_PER_ROW + 1:02d}", f"Dãy {letter}"
        else:
            number, row = f"N{position + 1}", "Dãy ngoài"
        stall_rows.append((first_stall + i, tenant_id, market_id, number, row, goods, vendor_id))
        if vendor_id is not None:
            sellers.append((vendor_id, market_id, number, goods))
    with bar("Markets", len(markets)) as progress:
        report.counts["markets"] = copy_rows(connection, Market.__table__, MARKET_COLUMNS, markets, progress)
    with bar("Stalls", len(stall_rows)) as progress:
        report.counts["stalls"] = copy_rows(connection, Stall.__table__, STALL_COLUMNS, stall_rows, progress)
    report.counts["market_sales"] = report.counts["sale_intents"] = 0
    if not sizes.sales:
        return
    if not sellers:
        raise ScaleError("Market sales need vendors with a stall: give more --vendors.")

    days = _market_days(now, sizes.months)
    if not days:
        raise ScaleError("No market day in the chosen months.")
    vendor_of = {v.id: v for v in vendors}
    qr_base = {tenant_id: 0.35 + 0.5 * rng.random() for tenant_id, _c, _d in tenants}
    first_sale = reserve_ids(connection, MarketSale.__table__, sizes.sales)
    intent_ids = money.intent_ids(connection)
    minutes = MARKET_HOURS * 60
    span = len(days) * minutes
    intents: list[tuple] = []
    state = {"intents": 0}
    minute = [timedelta(minutes=MARKET_OPEN + m) for m in range(minutes)]
    delays = [timedelta(seconds=s) for s in range(5, 41)]
    lifetime = money.ttl

    def sales(progress):
        sale_id = first_sale
        rand, randrange = rng.random, rng.randrange
        for (vendor_id, market_id, number, goods), k in zip(sellers, spread(sizes.sales, len(sellers)),
                                                            strict=True):
            vendor = vendor_of[vendor_id]
            tenant_id, low, high = vendor.tenant_id, *SALE_RANGES.get(goods, SALE_RANGES["other"])
            share = qr_base[tenant_id]
            label = f"{vendor.name} #{number}"
            metadata = json_object(vendor=str(vendor_id))
            for key in sorted(randrange(span) for _ in range(k)):
                day, at = divmod(key, minutes)
                created = days[day] + minute[at]
                amount = randrange(low, high + 1) * 1000
                if rand() < min(0.95, share * (0.75 + 0.35 * key / span)):
                    intent_id = intent_ids.take()
                    expires = created + lifetime
                    if rand() < SALE_CANCELED_SHARE:
                        status, confirmation, paid_at = "canceled", None, None
                        intents.append(money.intent(
                            intent_id, tenant_id, vendor.account, amount, status="canceled", received=0,
                            description=label, purpose=SALE_PURPOSE, metadata=metadata, expires_at=expires,
                            created_at=created, updated_at=expires, cancellation_reason="abandoned",
                            canceled_at=expires))
                    else:
                        status, confirmation, paid_at = "paid", "bank", created + delays[randrange(len(delays))]
                        intents.append(money.intent(
                            intent_id, tenant_id, vendor.account, amount, status="succeeded", received=amount,
                            description=label, purpose=SALE_PURPOSE, metadata=metadata, expires_at=expires,
                            created_at=created, updated_at=paid_at, succeeded_at=paid_at))
                    state["intents"] += 1
                    yield (sale_id, tenant_id, vendor_id, market_id, number, goods, amount, "", "qr", status,
                           confirmation, intent_id, False, created, paid_at)
                else:
                    yield (sale_id, tenant_id, vendor_id, market_id, number, goods, amount, "", "cash", "paid",
                           "cash", None, False, created, created)
                sale_id += 1
            progress.update(k)

    with bar("Market sales", sizes.sales) as progress:
        written = money.copy_with_intents(connection, sales(progress), intents, MarketSale.__table__, SALE_COLUMNS)
    report.counts["market_sales"] = written
    report.counts["sale_intents"] = state["intents"]
