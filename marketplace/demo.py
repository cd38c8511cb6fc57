"""The marketplace's demo: 13 producers of several communes (Vendor rows of tenants/vendors, with their payment
accounts and vendor logins ``shop.<commune>.<n>@gialam.demo``) and 139 published products, each with a picture
generated honestly (its initials on its category's colour). Seeded in bulk: a few multi-row INSERTs.
"""

from __future__ import annotations

import hashlib
import io
import random
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import func, insert, select

from app import storage
from app.auth.models import Membership, User
from app.auth.passwords import hash_password
from app.extensions import db
from app.text import slugify, strip_diacritics
from marketplace import images
from marketplace.demo_catalogue import PRODUCERS
from marketplace.models import Product
from marketplace.search import folded_key, lower_key
from marketplace.statuses import category
from tenants.vendors import payments as vendor_payments
from tenants.vendors import services as vendor_services
from tenants.vendors.models import Vendor
from tenants.models import Tenant
from tenants.scoping import all_tenants

DEMO_DOMAIN = "gialam.demo"
DEMO_BANK_BIN = "970418"  # BIDV; the account numbers are made up for the demo


def login_email(commune_slug: str, n: int) -> str:
    return f"shop.{commune_slug}.{n}@{DEMO_DOMAIN}"


def _picture(name: str, color: str, cache: dict) -> tuple[str, bytes, bytes]:
    key = (images.initials(name), color)
    if key not in cache:
        picture = images.placeholder(name, color, size=480)
        full, thumb = io.BytesIO(), io.BytesIO()
        picture.save(full, "JPEG", quality=80)
        picture.resize((240, 240)).save(thumb, "JPEG", quality=80)
        data = full.getvalue()
        cache[key] = (hashlib.sha256(data).hexdigest()[:24], data, thumb.getvalue())
    return cache[key]


DEMO_DELIVERY_FEES = (30_000, 25_000, 0, 35_000)  # flat fees within Gia Lâm, in đồng (one is free)


def demo_delivery(index: int, name: str, commune_name: str) -> dict:
    """A producer's delivery and pick-up in the demo (#19), in the same bulk insert as the producer: most deliver at
    a flat fee in 1–3 days, every other one also lets shoppers pick up at the workshop, one in five only that."""
    place = f"Xưởng của {name}, xã {commune_name}"
    delivers = index % 5 != 4
    return {"offers_delivery": delivers, "delivery_fee": DEMO_DELIVERY_FEES[index % 4] if delivers else 0,
            "delivery_estimate": ("1–2 ngày", "2–3 ngày")[index % 2] if delivers else "",
            "offers_pickup": not delivers or index % 2 == 0, "pickup_place": place[:200],
            "pickup_estimate": "trong ngày"}


def seed(password: str, now: datetime | None = None) -> dict[str, int]:
    """Idempotent: does nothing once any product exists. Communes must exist (app/demo.py makes them first)."""
    now = now or datetime.now(timezone.utc)
    with all_tenants():
        if db.session.scalar(select(func.count()).select_from(Product)):
            return {"products": 0}
        communes = list(db.session.scalars(select(Tenant)))
        tenants = {t.slug: t.id for t in communes}
        commune_names = {t.slug: t.name for t in communes}
        producers = [p for p in PRODUCERS if p[0] in tenants]
        if not producers:
            return {"products": 0}
        per_commune: dict[str, int] = {}
        vendor_rows = []
        for index, (commune, name, owner, kind, goods, description, _cat, _products) in enumerate(producers):
            per_commune[commune] = per_commune.get(commune, 0) + 1
            vendor_rows.append({
                "tenant_id": tenants[commune], "kind": kind, "business_name": name, "slug": slugify(name)[:120],
                "owner_name": owner, "phone": f"09{abs(hash(name)) % 10**8:08d}"[:10], "tax_code": None,
                "goods_category": goods[:40], "description": description, "active": True,
                "at_market": False,  # producers: a shop on the marketplace, no stall (#19 item 2)
                **demo_delivery(index, name, commune_names[commune]),
            })
        db.session.execute(insert(Vendor), vendor_rows)
        by_key = {(v.tenant_id, v.slug): v.id for v in db.session.scalars(
            select(Vendor).where(Vendor.slug.in_([r["slug"] for r in vendor_rows])))}
        vendor_ids = [by_key[(r["tenant_id"], r["slug"])] for r in vendor_rows]

        vendor_payments.insert_vendor_accounts([{
            "tenant_id": row["tenant_id"], "vendor_id": vendor_id, "label": f"Tài khoản {row['business_name']}",
            "bank_bin": DEMO_BANK_BIN, "account_number": f"2150{vendor_id:08d}",
            "holder_name": strip_diacritics(row["owner_name"]).upper(),
        } for row, vendor_id in zip(vendor_rows, vendor_ids, strict=True)])

        password_hash = hash_password(password)  # one hash for every demo login: same password
        counters: dict[str, int] = {}
        emails = []
        for (commune, *_rest) in producers:
            counters[commune] = counters.get(commune, 0) + 1
            emails.append(login_email(commune, counters[commune]))
        existing = set(db.session.scalars(select(User.email).where(User.email.in_(emails))))
        new_users = [{"email": email, "name": producer[2], "password_hash": password_hash, "active": True}
                     for email, producer in zip(emails, producers, strict=True) if email not in existing]
        if new_users:
            db.session.execute(insert(User), new_users)
        user_ids = {u.email: u.id for u in db.session.scalars(select(User).where(User.email.in_(emails)))}
        bound = set(db.session.scalars(select(Membership.user_id).where(
            Membership.user_id.in_(list(user_ids.values())), Membership.role == "vendor")))
        vendor_services.bind_users([{"user_id": user_ids[email], "tenant_id": row["tenant_id"], "vendor_id": vendor_id}
                                    for email, row, vendor_id in zip(emails, vendor_rows, vendor_ids, strict=True)
                                    if user_ids[email] not in bound])

        rng = random.Random(139)
        cache: dict = {}
        product_rows, pictures = [], []
        for producer, vendor_id, row in zip(producers, vendor_ids, vendor_rows, strict=True):
            cat = producer[6]
            color = category(cat).color
            taken: set[str] = set()
            for index, (name, price, unit, stock, stars) in enumerate(producer[7]):
                picture = _picture(name, color, cache)
                slug = slugify(name)[:110]
                while slug in taken:
                    slug += "-2"
                taken.add(slug)
                product_rows.append({
                    "tenant_id": row["tenant_id"], "vendor_id": vendor_id, "category": cat, "name": name,
                    "name_folded": folded_key(name), "name_lower": lower_key(name), "slug": slug,
                    "description": f"{name} của {row['business_name']}. {producer[5]}",
                    "price": price, "unit": unit, "stock": stock, "reserved": 0, "images": [picture[0]],
                    "ocop_stars": stars, "ocop_certificate": f"{rng.randint(100, 999)}/QĐ-UBND" if stars else None,
                    "ocop_expires_on": date(now.year + 2, 12, 31) if stars else None,
                    "status": "published", "featured": index == 0,
                    "created_at": now - timedelta(days=rng.randint(0, 90), minutes=rng.randint(0, 1440)),
                })
                pictures.append(picture)
        db.session.execute(insert(Product), product_rows)
        ids = db.session.execute(select(Product.id, Product.tenant_id, Product.slug)).all()
        id_of = {(tenant_id, slug): pid for pid, tenant_id, slug in ids}
        for row, (name, full, thumb) in zip(product_rows, pictures, strict=True):
            product_id = id_of[(row["tenant_id"], row["slug"])]
            storage.save(images.key(row["tenant_id"], product_id, name, "full"), full)
            storage.save(images.key(row["tenant_id"], product_id, name, "thumb"), thumb)
        db.session.commit()  # bulk seeding: the marketplace's demo is saved whole, the pictures are stored
    return {"producers": len(vendor_rows), "products": len(product_rows)}
