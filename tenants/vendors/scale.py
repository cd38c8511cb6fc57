"""The vendors of the scale data (``flask seed-scale``, app/scale.py): V vendors spread over the communes, each
with its own bank account (a payment account linked by vendor_accounts). The market and the marketplace loaders
find them in ``run.loaded["vendors"]``."""

from __future__ import annotations

from dataclasses import dataclass

from app.scale import copy_rows, reserve_ids
from app.text import slugify
from tenants.vendors.models import Vendor, VendorAccount

VENDOR_TRADES = (("Hộ kinh doanh", "household"), ("HTX", "cooperative"))
VENDOR_WORDS = ("Minh Phát", "Thành Công", "Hoa Sen", "Bảo An", "Hương Quê", "Đồng Xanh", "Sông Hồng", "Tâm Phúc",
                "Quê Nhà", "Việt Xanh", "Lúa Vàng", "Mây Tre")
# What the vendors mainly sell (a market goods category), one after the other: the goods of the marketplace's
# product kinds (marketplace/scale.py), so a vendor's stall and its products agree.
VENDOR_GOODS = ("rice", "rice", "dry_goods", "dry_goods", "dry_goods", "fruit", "fruit", "dry_goods", "dry_goods",
                "dry_goods", "dry_goods", "dry_goods", "ceramics", "household_goods", "household_goods", "flowers",
                "flowers", "other")
VENDOR_COLUMNS = ("id", "tenant_id", "kind", "business_name", "slug", "owner_name", "phone", "goods_category",
                  "description", "active", "at_market")


@dataclass(frozen=True)
class VendorRow:
    """What the later loaders need of a seeded vendor: its commune, name, goods and bank account."""

    id: int
    tenant_id: int
    name: str
    goods: str
    account: object  # payments' Account (id, bank_bin, account_number)


def vendor_name(i: int) -> str:
    trade, _kind = VENDOR_TRADES[1 if i % 10 == 0 else 0]
    return f"{trade} {VENDOR_WORDS[i % len(VENDOR_WORDS)]} {i + 1}"


def load(run) -> None:
    with run.timed("vendors"):
        vendors = _load(run) if run.sizes.vendors else []
    run.loaded["vendors"] = vendors
    run.report.counts["vendors"] = len(vendors)


def _load(run) -> list[VendorRow]:
    connection, n, tenants = run.connection(), run.sizes.vendors, run.tenants
    first = reserve_ids(connection, Vendor.__table__, n)
    tenant_of = [tenants[run.rng.randrange(len(tenants))][0] for _ in range(n)]
    names = [vendor_name(i) for i in range(n)]

    def vendors():
        for i in range(n):
            kind = VENDOR_TRADES[1 if i % 10 == 0 else 0][1]
            yield (first + i, tenant_of[i], kind, names[i], f"{slugify(names[i])}-{first + i}", f"Chủ hộ {i + 1}",
                   f"09{(first + i) % 100_000_000:08d}", VENDOR_GOODS[i % len(VENDOR_GOODS)], "", True,
                   i % 5 != 4)  # one vendor in five sells on the marketplace only (tenants/market/scale.py)

    with run.bar("Vendors", n) as progress:
        copy_rows(connection, Vendor.__table__, VENDOR_COLUMNS, vendors(), progress)
    accounts = run.money.payee_accounts(connection, [(tenant_of[i], "Tài khoản bán hàng", f"CHU HO {i + 1}")
                                                     for i in range(n)], run.bar, "Vendor accounts")
    copy_rows(connection, VendorAccount.__table__, ("tenant_id", "vendor_id", "account_id"),
              ((tenant_of[i], first + i, accounts[i].id) for i in range(n)))
    return [VendorRow(first + i, tenant_of[i], names[i], VENDOR_GOODS[i % len(VENDOR_GOODS)], accounts[i])
            for i in range(n)]
