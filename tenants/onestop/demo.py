"""The one-stop office's demo data: 15 common commune procedures for every commune, and twelve months
of dossiers that reproduce what Gia Lâm reported (about 2,528 a month district-wide, every result digitised, most
same-day dossiers returned within 2 hours, 70-90 % of fees paid by QR in each commune, mostly satisfied ratings, a
few late and refused). Drawn from generators seeded with each commune's statistics code (the same data on every
machine) and inserted in bulk: multi-row Core inserts, no ORM object per row.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import func, insert, select

from app.auth.models import Membership, User
from app.extensions import db
from tenants.models import Tenant
from tenants.onestop import worktime
from tenants.onestop.models import Dossier, DossierCounter, DossierEvent, Procedure, Rating
from tenants.scoping import all_tenants

MONTHLY_DISTRICT = 2528
# (name, sector, unit, amount, same day, fee in đồng, online, weight among the office's dossiers)
PROCEDURES = (
    ("Chứng thực bản sao từ bản chính", "Chứng thực", "hours", 1, True, 2_000, False, 30),
    ("Chứng thực chữ ký trong giấy tờ, văn bản", "Chứng thực", "hours", 1, True, 10_000, False, 12),
    ("Chứng thực hợp đồng, giao dịch liên quan đến tài sản", "Chứng thực", "days", 2, False, 50_000, False, 4),
    ("Cấp bản sao trích lục hộ tịch", "Hộ tịch", "hours", 1, True, 8_000, True, 10),
    ("Đăng ký khai sinh", "Hộ tịch", "hours", 2, True, 0, True, 8),
    ("Đăng ký khai tử", "Hộ tịch", "hours", 2, True, 0, True, 3),
    ("Đăng ký kết hôn", "Hộ tịch", "hours", 2, True, 0, True, 4),
    ("Xác nhận tình trạng hôn nhân", "Hộ tịch", "days", 3, False, 15_000, True, 6),
    ("Đăng ký khai sinh quá hạn", "Hộ tịch", "days", 3, False, 8_000, True, 2),
    ("Đăng ký thay đổi, cải chính hộ tịch", "Hộ tịch", "days", 3, False, 15_000, True, 2),
    ("Đăng ký giám hộ", "Hộ tịch", "days", 3, False, 0, False, 1),
    ("Đăng ký hộ kinh doanh", "Kinh tế", "days", 3, False, 100_000, True, 3),
    ("Xác nhận hộ gia đình làm nông nghiệp", "Nông nghiệp", "days", 5, False, 0, True, 2),
    ("Trợ cấp xã hội hằng tháng", "Bảo trợ xã hội", "days", 7, False, 0, False, 2),
    ("Xác nhận đơn đề nghị cấp giấy chứng nhận quyền sử dụng đất", "Đất đai", "days", 10, False, 0, False, 3),
)
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô", "Dương", "Lý")
MIDDLE = ("Văn", "Thị", "Minh", "Thu", "Đức", "Ngọc", "Quang", "Thanh", "Hữu", "Kim")
GIVEN = ("An", "Bình", "Châu", "Dũng", "Hà", "Hải", "Hạnh", "Hùng", "Lan", "Linh", "Mai", "Nam", "Phương", "Quân",
         "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Yến")
BATCH = 2_000


def _procedures(tenant_id: int) -> list[dict]:
    rows = [dict(tenant_id=tenant_id, name=name, sector=sector, time_unit=unit, time_amount=amount, same_day=same_day,
                 fee=fee, required_documents="Tờ khai theo mẫu; giấy tờ tùy thân", online=online, active=True)
            for name, sector, unit, amount, same_day, fee, online, _weight in PROCEDURES]
    db.session.execute(insert(Procedure), rows)
    return list(db.session.execute(select(Procedure.id, Procedure.name).where(Procedure.tenant_id == tenant_id)
                                   .order_by(Procedure.id)))


def _officer_id(slug: str) -> int | None:
    return db.session.scalar(select(User.id).join(Membership).where(
        Membership.role == "officer", User.email.like(f"officer.{slug}@%")))


def _working_days(start: datetime, end: datetime) -> list:
    """The working days from start to end (local time)."""
    day = start.date()
    days = []
    while day <= end.date():
        if worktime.DEFAULT_SCHEDULE.is_working_day(day):
            days.append(day)
        day += timedelta(days=1)
    return days


def _plan(tenant: Tenant, share: float, months: int, now: datetime, proc_ids: list[int], officer_id: int | None):
    """The commune's dossiers (rows), their events and ratings, and the per-day counters, oldest first."""
    rng = random.Random(f"onestop-{tenant.code}")
    schedule = worktime.DEFAULT_SCHEDULE
    local_now = worktime.local(now)
    cashless = rng.uniform(0.74, 0.88)  # the commune's share of fees paid by QR
    owed = 0.0  # error diffusion: each commune gets its share exactly, not just on average
    weights = [p[7] for p in PROCEDURES]
    days = _working_days(local_now - timedelta(days=round(30.44 * months)), local_now)
    per_day = share * MONTHLY_DISTRICT * months / max(1, len(days))
    dossiers, counters = [], {}
    for day in days:
        count = max(0, round(rng.gauss(per_day, per_day ** 0.5)))
        moments = sorted(datetime.combine(day, datetime.min.time(), tzinfo=worktime.VN_TZ)
                         + timedelta(minutes=rng.choice((rng.randint(7 * 60, 11 * 60 + 20),
                                                         rng.randint(13 * 60 + 30, 16 * 60 + 50))))
                         for _ in range(count))
        moments = [m for m in moments if m < local_now]
        for sequence, received in enumerate(moments, start=1):
            index = rng.choices(range(len(PROCEDURES)), weights)[0]
            name, _sector, unit, amount, same_day, fee, online, _w = PROCEDURES[index]
            channel = "online" if online and rng.random() < 0.25 else ("post" if rng.random() < 0.01 else "counter")
            received_utc = received.astimezone(timezone.utc)
            due = worktime.due_time(schedule, received_utc, time_unit=unit, time_amount=amount, same_day=same_day)
            budget = amount * (60 if unit == "hours" else schedule.minutes_per_day)
            fate = rng.random()
            if same_day:
                minutes = rng.randint(10, 110) if rng.random() < 0.9 else rng.randint(110, 300)
            else:
                minutes = rng.randint(budget // 3, budget)
            late = fate < 0.03
            if late:
                minutes = budget + rng.randint(60, 960)
            finished = worktime.add_working_minutes(schedule, received_utc, minutes).astimezone(timezone.utc)
            if same_day and not late:
                finished = min(finished, due)
            status = "returned"
            if fate > 0.99:
                status = "refused"
            elif fate > 0.985:
                status = "withdrawn"
            elif finished > now or (late and received_utc > now - timedelta(days=21) and rng.random() < 0.4):
                # still open (a few of them past due: the queue's and the dashboard's overdue marks)
                status = "processing" if rng.random() < 0.8 else "awaiting_fee" if fee else "received"
            code = f"{tenant.code}-{received:%y%m%d}-{sequence:04d}"
            counters[received.date()] = sequence
            paid_by = None
            if fee and status in ("returned", "processing"):
                owed += cashless
                paid_by = "vietqr" if owed >= 1 else "cash"
                owed -= 1 if owed >= 1 else 0
            done = status == "returned"
            row = dict(
                tenant_id=tenant.id, code=code, procedure_id=proc_ids[index], channel=channel, status=status,
                applicant_name=f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}",
                applicant_id_number=f"001{rng.randint(0, 999_999_999):09d}", applicant_phone=f"09{rng.randint(0, 99_999_999):08d}",
                applicant_address=f"Thôn {rng.randint(1, 12)}, {tenant.display_name}", applicant_email="",
                request_note="", sets=1, submitted_at=received_utc - (timedelta(hours=rng.randint(1, 20))
                                                                     if channel == "online" else timedelta(0)),
                received_at=None if status == "refused" else received_utc,
                due_at=None if status == "refused" else due,
                finished_at=finished if done or status in ("refused", "withdrawn") else None,
                finished_on_time=(finished <= due) if done else (True if status in ("refused", "withdrawn") else None),
                processing_minutes=minutes if done else None,
                returned_at=finished + timedelta(minutes=rng.randint(5, 120)) if done else None,
                officer_id=officer_id, result_file_key=f"demo/{code}.pdf" if done else None,
                result_note="", fee_amount=fee, fee_method=paid_by, fee_paid_at=received_utc + timedelta(minutes=5)
                if paid_by else None, paused_minutes=0, supplement_requests=0, supplement_items="",
                apology_reason="", reason="Hồ sơ không thuộc thẩm quyền" if status == "refused" else "",
            )
            row["applicant_name_folded"] = _fold(row["applicant_name"])
            dossiers.append(row)
    return dossiers, counters, rng


def _fold(name: str) -> str:
    from app.text import fold

    return fold(name)


def _events_and_ratings(tenant_id: int, rows: list[dict], ids: list[int], officer_id, officer_name: str, rng):
    events, ratings = [], []
    for dossier_id, row in zip(ids, rows, strict=True):
        def event(action, at, from_status, to_status, on_time=None, actor=True, dossier_id=dossier_id):
            events.append(dict(tenant_id=tenant_id, dossier_id=dossier_id, at=at, action=action,
                               from_status=from_status, to_status=to_status,
                               actor_id=officer_id if actor else None,
                               actor_label=officer_name if actor else "Công dân", note="", on_time=on_time))

        event("submit", row["submitted_at"], None, "registered", actor=row["channel"] != "online")
        if row["status"] == "refused":
            event("refuse", row["submitted_at"] + timedelta(hours=1), "registered", "refused")
            continue
        received, due = row["received_at"], row["due_at"]
        event("receive", received, "registered", "received", True)
        if row["fee_method"]:
            event("request_fee", received + timedelta(minutes=1), "received", "awaiting_fee", True)
            event("fee_paid", row["fee_paid_at"], "awaiting_fee", "processing", True,
                  actor=row["fee_method"] == "cash")
        if row["status"] == "withdrawn":
            event("withdraw", row["finished_at"], "processing", "withdrawn", row["finished_at"] <= due)
        if row["status"] == "returned":
            event("record_result", row["finished_at"], "processing", "processed", row["finished_on_time"])
            event("return_result", row["returned_at"], "processed", "returned", row["returned_at"] <= due)
            if rng.random() < 0.6:
                level = rng.choices(("very_satisfied", "satisfied", "unsatisfied"), (75, 23, 2))[0]
                ratings.append(dict(tenant_id=tenant_id, dossier_id=dossier_id, officer_id=officer_id, level=level,
                                    reason="Phải chờ lâu" if level == "unsatisfied" else "",
                                    rated_at=row["returned_at"] + timedelta(minutes=2)))
    return events, ratings


def _insert(model, rows: list[dict]) -> None:
    """Core executemany on the table (the ORM's bulk path costs several times more per row)."""
    for start in range(0, len(rows), BATCH):
        db.session.execute(insert(model.__table__), rows[start:start + BATCH])


def seed(now: datetime, progress=None) -> int:
    """Seed communes that have no procedure yet; returns the dossiers created. ``DEMO_ONESTOP_MONTHS`` months.
    ``progress(i, n, tenant, detail)`` is told after each commune (the CLI prints a line)."""
    months = current_app.config.get("DEMO_ONESTOP_MONTHS", 12)
    created = 0
    with all_tenants():  # bulk inserts name their tenant themselves
        tenants = list(db.session.scalars(select(Tenant).where(Tenant.status == "active").order_by(Tenant.code)))
        seeded = set(db.session.scalars(select(Procedure.tenant_id).distinct()))
        rng = random.Random("gia-lam-onestop")
        raw = [rng.uniform(0.7, 1.3) for _ in tenants]
        shares = [w / sum(raw) for w in raw] if raw else []
        for index, (tenant, share) in enumerate(zip(tenants, shares, strict=True), start=1):
            if tenant.id in seeded:
                continue
            procs = _procedures(tenant.id)
            officer_id = _officer_id(tenant.slug)
            officer_name = db.session.scalar(select(User.name).where(User.id == officer_id)) if officer_id else ""
            rows = []
            if months:
                rows, counters, drng = _plan(tenant, share, months, now, [p.id for p in procs], officer_id)
                _insert(Dossier, rows)
                by_code = dict(db.session.execute(select(Dossier.code, Dossier.id)
                                                  .where(Dossier.tenant_id == tenant.id)).all())
                ids = [by_code[row["code"]] for row in rows]
                events, ratings = _events_and_ratings(tenant.id, rows, ids, officer_id, officer_name, drng)
                _insert(DossierEvent, events)
                _insert(Rating, ratings)
                _insert(DossierCounter, [dict(tenant_id=tenant.id, day=day, last=last)
                                         for day, last in counters.items()])
                created += len(rows)
            db.session.commit()  # bulk seeding: one commune at a time, so memory stays bounded and progress is kept
            if progress:
                progress(index, len(tenants), tenant, f" · one-stop office: {len(rows)} dossiers")
    return created


def count() -> int:
    with all_tenants():
        return db.session.scalar(select(func.count()).select_from(Dossier))
