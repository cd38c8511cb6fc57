"""The one-stop offices of the scale data (``flask seed-scale``, app/scale.py): the demo's procedures in every
commune, then a year of dossiers with their day counters, fee intents on the commune's fee account, and ratings."""

from __future__ import annotations

import bisect
from datetime import datetime, timedelta, timezone

from app.scale import ScaleError, copy_rows, person_names, reserve_ids, spread
from app.text import fold
from tenants.onestop import worktime
from tenants.onestop.demo import PROCEDURES
from tenants.onestop.models import Dossier, DossierCounter, Procedure, Rating
from tenants.onestop.payments import FEE_TTL, PURPOSE

class _Clock:
    """Working-time answers, memoised: dossiers are received at a few fixed minutes of each working day, so the
    due and finish times repeat and worktime computes each one once."""

    SLOTS = tuple(range(7 * 60 + 10, 11 * 60 + 30, 20)) + tuple(range(13 * 60 + 40, 17 * 60, 20))

    def __init__(self, now: datetime, months: int) -> None:
        self.worktime = worktime
        self.schedule = worktime.DEFAULT_SCHEDULE
        local_now = worktime.local(now)
        day, days = (local_now - timedelta(days=round(30.44 * months))).date(), []
        while day < local_now.date():
            if self.schedule.is_working_day(day):
                days.append(day)
            day += timedelta(days=1)
        self.days = days
        self._moments: dict[int, datetime] = {}
        self._due: dict[tuple, datetime] = {}
        self._after: dict[tuple, datetime] = {}

    def moment(self, key: int) -> datetime:
        """Key = day index * len(SLOTS) + slot; the moment in UTC."""
        found = self._moments.get(key)
        if found is None:
            day, slot = divmod(key, len(self.SLOTS))
            local = datetime.combine(self.days[day], datetime.min.time(), tzinfo=self.worktime.VN_TZ)
            found = (local + timedelta(minutes=self.SLOTS[slot])).astimezone(timezone.utc)
            self._moments[key] = found
        return found

    def due(self, key: int, index: int, proc) -> datetime:
        found = self._due.get((key, index))
        if found is None:
            found = self.worktime.due_time(self.schedule, self.moment(key), time_unit=proc[2], time_amount=proc[3],
                                           same_day=proc[4])
            self._due[(key, index)] = found
        return found

    def after(self, key: int, minutes: int) -> datetime:
        found = self._after.get((key, minutes))
        if found is None:
            found = self.worktime.add_working_minutes(self.schedule, self.moment(key), minutes).astimezone(
                timezone.utc)
            self._after[(key, minutes)] = found
        return found


DOSSIER_COLUMNS = (
    "id", "tenant_id", "code", "procedure_id", "channel", "status", "applicant_name", "applicant_name_folded",
    "applicant_id_number", "applicant_phone", "applicant_address", "applicant_email", "request_note", "sets",
    "submitted_at", "received_at", "due_at", "paused_minutes", "supplement_requests", "supplement_items",
    "apology_reason", "reason", "finished_at", "finished_on_time", "processing_minutes", "returned_at",
    "result_file_key", "result_note", "fee_amount", "fee_intent_id", "fee_method", "fee_paid_at",
)
RATING_LEVELS = ("very_satisfied",) * 75 + ("satisfied",) * 23 + ("unsatisfied",) * 2


def load(run) -> None:
    with run.timed("onestop"):
        _load(run)


def _load(run) -> None:
    """The demo's fifteen procedures in every commune, then D dossiers over ``months`` months with their day
    counters, fee intents (on each commune's fee account) and ratings."""
    connection, tenants, sizes, rng, now, bar, report, money = (run.connection(), run.tenants, run.sizes, run.rng,
                                                                run.now, run.bar, run.report, run.money)
    accounts = run.commune_accounts
    per = len(PROCEDURES)
    first_proc = reserve_ids(connection, Procedure.__table__, per * len(tenants))
    proc_rows = [(first_proc + t * per + p, tenant_id, name, sector, unit, amount, same_day, fee,
                  "Tờ khai theo mẫu; giấy tờ tùy thân", online, True)
                 for t, (tenant_id, _c, _d) in enumerate(tenants)
                 for p, (name, sector, unit, amount, same_day, fee, online, _w) in enumerate(PROCEDURES)]
    with bar("Procedures", len(proc_rows)) as progress:
        copy_rows(connection, Procedure.__table__, ("id", "tenant_id", "name", "sector", "time_unit", "time_amount",
                                                    "same_day", "fee", "required_documents", "online", "active"),
                  proc_rows, progress)
    report.counts["onestop_procedures"] = len(proc_rows)
    if not sizes.dossiers:
        return

    work = _Clock(now, sizes.months)
    if not work.days:
        raise ScaleError("No working day in the chosen months.")
    slots = len(_Clock.SLOTS)
    recent = max(0, len(work.days) - 5) * slots  # received in the last five working days: still open
    first_dossier = reserve_ids(connection, Dossier.__table__, sizes.dossiers)
    # Fee intents: at most one per dossier; ids taken from a reservation as large as the worst case would waste
    # the sequence, so reserve for the dossiers of procedures with a fee only.
    fee_share = sum(w for *_x, fee, _o, w in PROCEDURES if fee) / sum(p[7] for p in PROCEDURES)
    intent_budget = int(sizes.dossiers * fee_share * 1.1) + 100
    first_intent = money.reserve_intents(connection, intent_budget)
    weights = [p[7] for p in PROCEDURES]
    cumulative, total = [], 0
    for w in weights:
        total += w
        cumulative.append(total)
    names = person_names()
    folded_names = [fold(n) for n in names]
    budgets = [amount * (60 if unit == "hours" else work.schedule.minutes_per_day)
               for _n, _s, unit, amount, *_rest in PROCEDURES]
    intents: list[tuple] = []
    counters: list[tuple] = []
    ratings: list[tuple] = []
    state = {"intent": 0}
    per_tenant = spread(sizes.dossiers, len(tenants))
    fee_lifetime = FEE_TTL

    def dossiers(progress):
        next_id = first_dossier
        rand, randrange = rng.random, rng.randrange
        span = len(work.days) * slots
        for (tenant_id, code, display), k in zip(tenants, per_tenant, strict=True):
            account = accounts[tenant_id]
            keys = sorted(randrange(span) for _ in range(k))
            day_of_prev, seq = -1, 0
            for key in keys:
                day = key // slots
                if day != day_of_prev:
                    if seq:
                        counters.append((tenant_id, work.days[day_of_prev], seq))
                    day_of_prev, seq = day, 0
                seq += 1
                index = bisect.bisect_right(cumulative, rand() * total)
                proc = PROCEDURES[index]
                _pname, _sector, _unit, _amount, same_day, fee, online, _w = proc
                received = work.moment(key)
                dossier_code = f"{code}-{work.days[day]:%y%m%d}-{seq:04d}"
                channel = "online" if online and rand() < 0.3 else ("post" if rand() < 0.01 else "counter")
                submitted = received - timedelta(hours=3) if channel == "online" else received
                name_i = randrange(len(names))
                fate = rand()
                due = work.due(key, index, proc)
                received_at, due_at, finished, on_time, minutes, returned, result_key = received, due, None, None, \
                    None, None, None
                reason, fee_method, fee_paid, intent_id = "", None, None, None
                if key >= recent:
                    status = ("registered" if channel == "online" and fate < 0.15 else
                              "awaiting_fee" if fee and fate < 0.3 else
                              "received" if fate < 0.4 else "processing")
                    if status == "registered":
                        received_at = due_at = None
                elif fate < 0.01:
                    status, received_at, due_at, reason = "refused", None, None, "Hồ sơ không thuộc thẩm quyền"
                    finished, on_time = received + timedelta(minutes=30), True
                elif fate < 0.015:
                    status, reason = "withdrawn", "Công dân xin rút hồ sơ"
                    finished = work.after(key, 30)
                    on_time = finished <= due
                else:
                    status = "returned"
                    budget = budgets[index]
                    if fate > 0.97:  # late
                        minutes = budget + (60, 240, 960)[int(fate * 1000) % 3]
                    elif same_day:
                        minutes = (20, 45, 90)[int(fate * 1000) % 3]
                    else:
                        minutes = max(10, budget * (1 + int(fate * 1000) % 4) // 4)
                    finished = work.after(key, minutes)
                    if same_day and fate <= 0.97:
                        finished = min(finished, due)
                    on_time = finished <= due
                    returned = finished + timedelta(minutes=5 + int(fate * 10_000) % 115)
                    result_key = f"scale/{dossier_code}.pdf"
                if fee and status in ("returned", "processing", "withdrawn", "awaiting_fee"):
                    paid = status != "awaiting_fee"
                    by_qr = not paid or rand() < 0.8
                    if paid:
                        fee_method, fee_paid = ("vietqr" if by_qr else "cash"), received + timedelta(minutes=5)
                    if by_qr:
                        n = state["intent"]
                        if n >= intent_budget:
                            raise ScaleError("More fee intents than reserved ids (internal error).")
                        state["intent"] = n + 1
                        intent_id = first_intent + n
                        created = received + timedelta(minutes=1)
                        intents.append(money.intent(
                            intent_id, tenant_id, account, fee, received=fee if paid else 0,
                            status="succeeded" if paid else "requires_payment_method",
                            description=f"Lệ phí hồ sơ {dossier_code}", purpose=PURPOSE,
                            metadata=f'{{"dossier": "{dossier_code}"}}',
                            expires_at=(now + fee_lifetime) if not paid else created + fee_lifetime,
                            created_at=created, updated_at=fee_paid or created, succeeded_at=fee_paid))
                if status == "returned" and fate * 7 % 1 < 0.5:
                    level = RATING_LEVELS[int(fate * 100_000) % 100]
                    ratings.append((tenant_id, next_id, level, "Phải chờ lâu" if level == "unsatisfied" else "",
                                    returned + timedelta(minutes=2)))
                yield (next_id, tenant_id, dossier_code, first_proc + tenants_index[tenant_id] * per + index,
                       channel, status, names[name_i], folded_names[name_i], f"001{randrange(10**9):09d}",
                       f"09{randrange(10**8):08d}", f"Thôn {1 + name_i % 12}, {display}", "", "", 1, submitted,
                       received_at, due_at, 0, 0, "", "", reason, finished, on_time, minutes, returned, result_key,
                       "", fee, intent_id, fee_method, fee_paid)
                next_id += 1
            if seq:
                counters.append((tenant_id, work.days[day_of_prev], seq))
            progress.update(k)

    tenants_index = {tenant_id: i for i, (tenant_id, _c, _d) in enumerate(tenants)}
    # Intents first (dossiers point at them): copy_with_intents writes each chunk after its intents.
    with bar("Dossiers", sizes.dossiers) as progress:
        written = money.copy_with_intents(connection, dossiers(progress), intents, Dossier.__table__,
                                          DOSSIER_COLUMNS)
    report.counts["onestop_dossiers"] = written
    report.counts["fee_intents"] = state["intent"]
    with bar("Day counters", len(counters)) as progress:
        report.counts["onestop_dossier_counters"] = copy_rows(
            connection, DossierCounter.__table__, ("tenant_id", "day", "last"), counters, progress)
    with bar("Ratings", len(ratings)) as progress:
        report.counts["onestop_ratings"] = copy_rows(
            connection, Rating.__table__, ("tenant_id", "dossier_id", "level", "reason", "rated_at"), ratings,
            progress)
