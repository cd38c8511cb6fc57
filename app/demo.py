"""The Gia Lâm demo: 22 communes and towns, a district admin, an admin and an officer for every commune, and two
weeks of fee payments per commune so the payment pages and charts have something to show; then each domain's demo.

Bulk seeding commits as it goes, commune by commune (unlike a request or a command's unit of work): an interrupted
seed keeps what it made and the next run, idempotent, adds the rest."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select, update

from app.auth import services as account_services
from app.auth.models import Membership
from app.extensions import db
from app.formatting import to_local
from app.payments import accounts as payment_accounts
from app.clock import utcnow
from app.payments.intents import create_intent
from app.payments.models import BankTransfer, Event, PaymentIntent
from app.payments.bank.notifications import BankTransaction
from app.payments.bank.reconciliation import confirm_transfer
from app.text import strip_diacritics
from marketplace import demo as marketplace_demo
from tenants import services as tenant_services
from tenants.heritage import demo as heritage_demo
from tenants.market import demo as market_demo
from tenants.models import Tenant
from tenants.notices.models import Notice
from tenants.onestop import demo as onestop_demo
from tenants.queries import get_by_slug
from tenants.scoping import tenant_context

DEMO_DOMAIN = "gialam.demo"
DEMO_BANK_BIN = "970415"  # VietinBank; the account numbers are made up for the demo


# Fees a commune's one-stop office collects (amounts of the kind set by Circular 85/2019 and local resolutions).
DEMO_FEES = (
    ("Lệ phí chứng thực bản sao", 10_000),
    ("Lệ phí chứng thực chữ ký", 10_000),
    ("Lệ phí cấp bản sao trích lục hộ tịch", 8_000),
    ("Lệ phí đăng ký khai sinh quá hạn", 8_000),
    ("Lệ phí xác nhận tình trạng hôn nhân", 15_000),
    ("Lệ phí chứng thực hợp đồng, giao dịch", 50_000),
    ("Lệ phí đăng ký hộ kinh doanh", 100_000),
)


def is_empty() -> bool:
    return not db.session.scalar(select(func.count()).select_from(Tenant))


def _ensure_user(email: str, name: str, password: str, role: str, tenant: Tenant | None) -> bool:
    user = account_services.get_user_by_email(email)
    created = user is None
    if created:
        user = account_services.create_user(email, name, password)
    if not any(m.role == role and m.tenant_id == (tenant.id if tenant else None) for m in user.memberships):
        user.memberships.append(Membership(tenant_id=tenant.id if tenant else None, role=role))
    db.session.commit()
    return created


def seed(password: str, progress=None, payment_days: int = 14, now: datetime | None = None) -> dict[str, int]:
    """Idempotent: creates what is missing and leaves what exists alone."""
    data = tenant_services.load_units()
    district = data["district"]
    counts = {"tenants": 0, "users": 0, "payments": 0}
    if _ensure_user(f"district@{DEMO_DOMAIN}", "Phòng Nội vụ huyện Gia Lâm", password, "district_admin", None):
        counts["users"] += 1
    for index, unit in enumerate(data["units"], start=1):
        tenant = get_by_slug(unit["slug"])
        if tenant is None:
            tenant = tenant_services.create_tenant(
                unit["name"], unit["kind"], unit["code"], unit["slug"],
                district_name=district["name"], district_code=district["code"], province_name=district["province"],
            )
            counts["tenants"] += 1
            tenant.tax_code = f"01{unit['code']}999"  # made up for the demo (a real one comes from the tax office)
            with tenant_context(tenant):
                db.session.add(Notice(
                    title=f"Chào mừng đến với cổng dịch vụ của {tenant.display_name}",
                    body="Bộ phận Một cửa tiếp nhận hồ sơ từ thứ Hai đến thứ Sáu, "
                         "sáng 8:00–12:00, chiều 13:30–17:00. Lệ phí thanh toán bằng mã VietQR.",
                ))
                db.session.commit()
        with tenant_context(tenant):
            if payment_accounts.find_account() is None:
                payment_accounts.create_account(
                    f"Tài khoản thu phí {tenant.display_name}", DEMO_BANK_BIN, f"1130{tenant.code}",
                    strip_diacritics(f"UBND {tenant.display_name}").upper(),
                )
                db.session.commit()
            if payment_days and not db.session.scalar(select(func.count()).select_from(PaymentIntent)):
                counts["payments"] += _seed_payment_history(tenant, payment_days, now or utcnow())
        slug = unit["slug"]
        for role, local, title in (("commune_admin", "admin", "Quản trị"), ("officer", "officer", "Cán bộ một cửa")):
            if _ensure_user(f"{local}.{slug}@{DEMO_DOMAIN}", f"{title} {tenant.display_name}", password, role, tenant):
                counts["users"] += 1
        if progress:
            progress(index, len(data["units"]), tenant)
    counts["dossiers"] = onestop_demo.seed(now or utcnow(), progress=progress)
    counts.update(market_demo.seed(password, now=now, echo=print if progress else None))
    counts.update(marketplace_demo.seed(password, now))
    counts.update(heritage_demo.seed(now))
    return counts


def _transfer(tenant: Tenant, number: str, amount: int, content: str, when) -> BankTransaction:
    return BankTransaction(provider="demo", provider_txn_id=f"demo-{tenant.code}-{number}", amount=amount,
                           content=content, account_number=f"1130{tenant.code}", bank="VietinBank", occurred_at=when,
                           reference=None, raw={"demo": True})


def _backdate(intent_id: int, transfer_id: int | None, when) -> None:
    """Move a demo payment to ``when``: the intent, its events and its transfer."""
    db.session.execute(update(PaymentIntent).where(PaymentIntent.id == intent_id).values(
        created_at=when - timedelta(minutes=3), expires_at=when + timedelta(minutes=12), succeeded_at=when))
    db.session.execute(update(Event).where(Event.intent_id == intent_id).values(created_at=when))
    if transfer_id is not None:
        db.session.execute(update(BankTransfer).where(BankTransfer.id == transfer_id).values(received_at=when))


def plan_payment_history(code: str, days: int, now: datetime) -> list[tuple[str, int, datetime]]:
    """(description, amount, paid at) of the fees paid in a commune over ``days`` days up to ``now``, oldest first.

    Office hours: one to three a weekday (8:00-12:00 and 13:30-17:00), up to two on Saturday morning, none on Sunday.
    Drawn from a generator seeded with the commune's statistics code: the same history on every machine."""
    rng = random.Random(code)
    planned = []
    for days_ago in range(days - 1, -1, -1):
        day = to_local(now - timedelta(days=days_ago))
        weekday = day.weekday()
        for _number in range(0 if weekday == 6 else rng.randint(0, 2) if weekday == 5 else rng.randint(1, 3)):
            hour = rng.randint(8, 11) if weekday == 5 else rng.choice((8, 9, 10, 11, 14, 15, 16))
            when = day.replace(hour=hour, minute=rng.randint(0, 59), second=0, microsecond=0)
            description, amount = rng.choice(DEMO_FEES)
            amount *= rng.choice((1, 1, 1, 2, 3))
            if when <= now:
                planned.append((description, amount, when.astimezone(timezone.utc)))
    return sorted(planned, key=lambda row: row[2])


def _seed_payment_history(tenant: Tenant, days: int, now: datetime) -> int:
    """The planned fees of ``days`` days, paid; today a short payment waiting in the reconciliation inbox and a
    transfer nobody can match. Made through the functions a bank notification goes through, then moved back in time;
    the transfers are labelled "demo" wherever they are shown. Returns the payments made."""
    account = payment_accounts.find_account()
    history = plan_payment_history(tenant.code, days, now)
    for number, (description, amount, when) in enumerate(history):
        intent = create_intent(account, amount, description=description, purpose="fee")
        outcome = confirm_transfer(_transfer(tenant, str(number), amount, f"{intent.reference_code} nop le phi", when))
        _backdate(intent.id, outcome.transfer.id, when)
    short = create_intent(account, 50_000, description="Lệ phí chứng thực hợp đồng, giao dịch", purpose="fee")
    confirm_transfer(_transfer(tenant, "short", 30_000, f"{short.reference_code} chuyen thieu", now))
    confirm_transfer(_transfer(tenant, "unmatched", 20_000, "NGUYEN VAN A nop phi chung thuc", now))
    db.session.commit()
    return len(history)
