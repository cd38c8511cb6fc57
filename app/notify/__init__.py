"""Notifications (issue #20): what happens to a dossier, an order, a vendor's day or an officer's inbox is told to
the person by e-mail, SMS or Zalo, exactly once. docs/decisions.md, "Notifications (#20)"; README, "Notifications".

A domain reaches this package through one module of its own (``tenants/onestop/notify.py``, ``marketplace/
notify.py``...), which knows its records and calls::

    from app import notify
    notify.subscribe("dossier:12", phone=..., email=..., channel="sms", locale="vi")  # the person's choice
    notify.send("dossier:12", "result_ready", build, reason=...)  # in the event's own transaction

``build(locale)`` returns a ``Text`` in that locale (the domain's own words). The message row is written in the
caller's transaction (it flushes, never commits): the event and its message are kept or lost together. A person who
chose "none", or stopped, gets no row at all. The worker (worker.py, run by ``flask payments worker`` and ``flask
notify worker``) sends due messages with a lease and retries; ``status_of(subject)`` is what staff see on the
record's page.

Periodic messages (digests, summaries, holds about to run out) are producers registered with ``periodic(name,
fn)``: each run of the worker calls them; their keys (a date, a record id) make a second run write nothing.
"""

from __future__ import annotations

import secrets as _random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app, has_request_context, request
from flask_babel import force_locale, gettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.clock import utcnow
from app import transactions
from app.extensions import db
from app.notify import sms
from app.notify.models import CHOICES, NotifyMessage, NotifySubscription

__all__ = ["Text", "daily_to_staff", "periodic", "send", "send_to", "status_of", "subscribe", "subscription", "public_url"]


@dataclass(frozen=True)
class Text:
    """A message's words in one language, from the domain: a title (e-mail subject), the body, the link to the
    record (absolute, from ``public_url``), the ZNS template and its parameters (Zalo), and why it was sent."""

    title: str
    body: str
    link: str = ""
    reason: str = ""
    zns_template: str = ""
    zns_data: dict = field(default_factory=dict)


def public_url(endpoint: str, **values) -> str:
    """An absolute link that leaves the site (a message): PUBLIC_BASE_URL decides the host, also in the worker."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base and has_request_context():
        base = request.host_url
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return (base or "http://127.0.0.1:5000").rstrip("/") + path


def clean_locale(value: str | None) -> str:
    return value if value in ("vi", "en") else "vi"


def phone_international(phone: str) -> str:
    """"0912 345 678" -> "84912345678" (Zalo and eSMS take the country code without "+")."""
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    if digits.startswith("0"):
        digits = "84" + digits[1:]
    return digits


def default_channel(phone: str = "", email: str = "") -> str:
    return "email" if email else ("sms" if phone else "none")


def subscription(subject: str) -> NotifySubscription | None:
    return db.session.scalar(select(NotifySubscription).where(NotifySubscription.subject == subject))


def subscribe(subject: str, *, phone: str = "", email: str = "", channel: str | None = None,
              locale: str | None = None) -> NotifySubscription:
    """Record (or update) the person's choice for ``subject``: the channel, or "none". Flushes only. Without a
    ``channel``, the one chosen on the form being submitted (``notify_channel``: notify/_choice_field.html), else
    e-mail when given, else SMS; without a ``locale``, the request's."""
    if channel is None and has_request_context():
        channel = request.form.get("notify_channel")
    if locale is None and has_request_context():
        from flask_babel import get_locale

        locale = str(get_locale() or "vi")
    channel = channel if channel in CHOICES else default_channel(phone, email)
    if channel == "email" and not email or channel in ("sms", "zalo") and not phone:
        channel = default_channel(phone, email) if channel != "none" else "none"
    row = subscription(subject)
    if row is None:
        row = NotifySubscription(subject=subject, token=_random.token_urlsafe(32))
        db.session.add(row)
    else:
        row.changed_at = utcnow()
    row.channel, row.phone, row.email = channel, phone or "", (email or "").lower()
    row.locale = clean_locale(locale)
    db.session.flush()
    return row


def _footer(reason: str, stop_url: str) -> str:
    why = gettext("Why you got this: %(reason)s", reason=reason) if reason else ""
    stop = gettext("To change the channel or stop these messages: %(url)s", url=stop_url)
    return "\n".join(part for part in (why, stop) if part)


def _compose(channel: str, text: Text, stop_url: str) -> tuple[str, str]:
    """(title, body) as the channel carries them, with why it was sent and how to stop it."""
    if channel == "sms":  # the words are cut to fit; the record's link and the stop link are kept whole
        tail = " ".join(part for part in (text.link, sms.unaccented(gettext("Stop: %(url)s", url=stop_url))) if part)
        words = sms.cut(f"{text.title}: {text.body}", sms.budget() - sms.length(tail) - 1)
        return "", f"{words} {tail}"
    body = "\n\n".join(part for part in (text.body, text.link, _footer(text.reason, stop_url)) if part)
    return text.title[:200], body


# Zalo ZNS template parameters have typed length limits (customer name 30, phone 15, address 200, code 30,
# amount 20...): each value is cut to its parameter's limit before it is written (200 for the others). Every ZNS
# template of the platform carries why the message was sent and the stop link (``ly_do``, ``dung_nhan``).
ZNS_LIMITS = {"ten_khach_hang": 30, "so_dien_thoai": 15, "dia_chi": 200, "ma_ho_so": 30, "ma_don": 30,
              "so_tien": 20, "so_don": 20, "tong_tien": 20, "trang_thai": 30, "hen_tra": 30}


def zns_data(data: dict, reason: str, stop_url: str) -> dict:
    values = {**data, "ly_do": reason, "dung_nhan": stop_url}
    return {name: str(value)[:ZNS_LIMITS.get(name, 200)] for name, value in values.items()}


def _write(*, subject: str, event: str, key: str, channel: str, address: str, locale: str, text: Text,
           stop_url: str, subscription_id: int | None, tenant_id: int | None = None) -> NotifyMessage | None:
    title, body = _compose(channel, text, stop_url)
    now = utcnow()
    message = NotifyMessage(key=key[:120], subject=subject, event=event, subscription_id=subscription_id,
                            channel=channel, address=address, locale=locale, title=title, body=body,
                            template_id=text.zns_template if channel == "zalo" else "",
                            template_data=_json(zns_data(text.zns_data, text.reason, stop_url))
                            if channel == "zalo" else "",
                            status="pending", attempts=0, next_attempt_at=now, created_at=now)
    if tenant_id is not None:
        message.tenant_id = tenant_id
    try:
        with transactions.savepoint():  # a key already written (a producer run twice): nothing more
            db.session.add(message)
            db.session.flush()
    except IntegrityError:
        return None
    return message


def _json(data: dict) -> str:
    import json

    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def _address(row: NotifySubscription) -> str:
    return row.email if row.channel == "email" else phone_international(row.phone)


def send(subject: str, event: str, build: Callable[[str], Text], *, key: str | None = None) -> NotifyMessage | None:
    """Write the message of ``event`` about ``subject`` to its subscriber, in the caller's transaction; None when
    nobody asked to hear about it (no subscription, "none") or ``key`` was already written."""
    row = subscription(subject)
    if row is None or row.channel == "none":
        return None
    with force_locale(row.locale):
        text = build(row.locale)
        stop_url = public_url("notify.preferences", token=row.token)
        return _write(subject=subject, event=event, key=key or f"{subject}:{event}:{_random.token_hex(8)}",
                      channel=row.channel, address=_address(row), locale=row.locale, text=text,
                      stop_url=stop_url, subscription_id=row.id)


def send_to(user, subject: str, event: str, build: Callable[[str], Text], *, key: str) -> NotifyMessage | None:
    """A message to a staff account by e-mail (the sign-in address), in the account's language. The account gets a
    subscription of its own for ``subject`` on first use, so its stop link works like a citizen's."""
    if not getattr(user, "email", "") or not getattr(user, "active", True):
        return None
    if subscription(subject) is None:
        subscribe(subject, email=user.email, channel="email", locale=getattr(user, "locale", None) or "vi")
    return send(subject, event, build, key=key)


DIGEST_HOUR = 7  # Hà Nội time: a daily staff message is written from this hour on


def daily_to_staff(now: datetime, *, event: str, who: str, key: str,
                   recipients: Callable[[], Iterable[tuple[int, object, Callable[[str], Text]]]]) -> int:
    """The staff's daily messages (the reconciliation inbox's waiting transfers, the officers' deadline digest):
    from ``DIGEST_HOUR`` (Hà Nội) on, ``recipients()`` gives (commune id, staff account, build) and each account
    gets one message a day in its commune: subject ``<who>:<user id>``, key ``<key>:<commune>:<user>:<day>``, so a
    second run of the day writes nothing. Returns how many were written."""
    from app.formatting import to_local
    from tenants.scoping import tenant_context

    local = to_local(now)
    if local.hour < DIGEST_HOUR:
        return 0
    written = 0
    for tenant_id, user, build in recipients():
        with tenant_context(tenant_id):
            if send_to(user, f"{who}:{user.id}", event, build,
                       key=f"{key}:{tenant_id}:{user.id}:{local:%Y-%m-%d}"):
                written += 1
    return written


@dataclass(frozen=True)
class Status:
    event: str
    channel: str
    address: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


def status_of(subject: str, keys: list[str] | None = None) -> list[Status]:
    """Each message about ``subject``, oldest first: what staff see on the dossier's or the order's page. With
    ``keys`` (exact keys, or prefixes ending in ":"), only those messages, read across communes (an order's messages
    live with its home commune; a producer of another commune sees those about its own part)."""
    from sqlalchemy import or_

    from tenants.scoping import all_tenants

    query = (select(NotifyMessage.event, NotifyMessage.channel, NotifyMessage.address, NotifyMessage.status,
                    NotifyMessage.attempts, NotifyMessage.last_error, NotifyMessage.created_at, NotifyMessage.sent_at)
             .where(NotifyMessage.subject == subject).order_by(NotifyMessage.id))
    if keys is None:
        return [Status(*row) for row in db.session.execute(query).all()]
    query = query.where(or_(*(NotifyMessage.key.startswith(k, autoescape=True) if k.endswith(":")
                              else NotifyMessage.key == k for k in keys)))
    with all_tenants():
        return [Status(*row) for row in db.session.execute(query).all()]


_PERIODIC: dict[str, Callable[[datetime], int]] = {}


def periodic(name: str, producer: Callable[[datetime], int]) -> None:
    """Register a producer run by each round of the worker (``producer(now)`` writes messages with keys that make
    a second run a no-op, and returns how many it wrote)."""
    _PERIODIC[name] = producer


def producers() -> dict[str, Callable[[datetime], int]]:
    return dict(_PERIODIC)


def init_app(app) -> None:
    from app.notify import cli, views

    app.register_blueprint(views.bp)
    cli.register(app)


def _declare_records() -> None:
    """Personal data (Decree 13/2023/NĐ-CP; docs/operations.md, "Notifications"): the phone and e-mail a person gave
    for messages about one record, and the address each message went to. Purpose: telling them about that record
    only. Kept: a subscription's contact one year after it was made (then blanked and the channel set to none; a
    person's erasure request reaches it at any age); messages 90 days after they were sent, failed or stopped.
    Provider secrets are recorded as changed, never with their value."""
    from flask_babel import lazy_gettext as _l

    from app import audit, retention

    audit.personal_data("notify_subscriptions", "phone", "email", label=_l("Notification contact"))
    audit.personal_data("notify_messages", "address", "body", label=_l("Notification"))
    audit.track("notify_secrets", _l("Notification provider secret"), secret=("ciphertext",))
    retention.rule("notify.contacts", _l("Contacts given for notifications"), "notify_subscriptions", days=365,
                   clock="created_at", anonymise={"phone": "", "email": "", "channel": "none"},
                   basis=_l("Used only to tell the person about the record they gave them for; a year covers the "
                            "longest dossier and order with their complaints."))
    retention.rule("notify.messages", _l("Notifications sent"), "notify_messages", days=90, clock="created_at",
                   where=lambda t: t.c.status != "pending",
                   basis=_l("Enough for staff to answer \"was I told?\"; the record's own history stays."))


_declare_records()
