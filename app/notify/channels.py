"""The channels behind one interface: ``send(job) -> Outcome``. Each knows its provider's documented format and
what its answers mean; the worker (worker.py) knows nothing of either.

- ``email``: SMTP (``SMTP_URL``: ``smtp://user:password@host:587?starttls=1``, or ``smtps://...:465``), from
  ``MAIL_FROM``; a plain-text part (and nothing a mail client must render), ``Message-ID`` fixed by the message's
  key (a resend after a crash carries the same id, which mail systems de-duplicate), ``List-Unsubscribe`` with the
  stop link.
- ``sms``: eSMS.vn's brand-name API (``SendMultipleMessage_V4_post_json``, customer-care type 2, unaccented text),
  with the message's key as ``RequestId``, which eSMS documents as blocking a duplicate request: a resend after a
  crash cannot text twice. ``CodeResult`` "100" is accepted; anything else is an error kept by its code.
- ``zalo``: Zalo's ZNS template message (``POST /message/template`` with the OA's ``access_token`` header and
  ``tracking_id`` = the message's key); ``error`` 0 is accepted; an expired token (-124) is renewed once with the
  refresh token (the one place that does so) and the send tried again.
- without a provider configured (development, tests), every channel writes to the local outbox page instead
  (``/dev/outbox``): the message is marked sent with provider id ``outbox``. Production refuses that.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import parse_qs, unquote, urlsplit

import requests
from flask import current_app

from app.notify import secrets

TIMEOUT_SECONDS = 10
ESMS_URL = "https://rest.esms.vn/MainService.svc/json/SendMultipleMessage_V4_post_json/"
ZALO_URL = "https://business.openapi.zalo.me/message/template"
ZALO_TOKEN_URL = "https://oauth.zaloapp.com/v4/oa/access_token"
ZALO_EXPIRED_TOKEN = -124


_local = threading.local()


def _http() -> requests.Session:
    """One HTTP session per worker thread: the provider's connection is kept alive across a batch."""
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


@dataclass(frozen=True)
class Job:
    """What the worker hands a channel: the message as stored (no ORM object crosses the network call)."""

    id: int
    tenant_id: int
    key: str
    channel: str
    address: str
    title: str
    body: str
    template_id: str
    template_data: str
    stop_url: str


@dataclass(frozen=True)
class Outcome:
    accepted: bool
    provider_id: str | None = None
    error: str | None = None  # short, fixed or the provider's code: never a secret, never a whole answer
    final: bool = False  # an error no retry can mend (a bad address): reported at once


def outbox(job: Job) -> Outcome:
    if current_app.config.get("PRODUCTION"):
        return Outcome(False, error=f"{job.channel}: no provider configured", final=True)
    return Outcome(True, provider_id="outbox")


# ---------------------------------------------------------------------------------------------------- e-mail


def smtp_settings(url: str) -> dict:
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    implicit = parts.scheme == "smtps"
    return {
        "host": parts.hostname or "localhost",
        "port": parts.port or (465 if implicit else 587),
        "user": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
        "implicit_tls": implicit,
        "starttls": query.get("starttls", "0") in ("1", "true", "yes"),
    }


def email_message(job: Job, sender: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = job.address
    mail["Subject"] = job.title
    mail["Date"] = formatdate(localtime=False)
    domain = sender.rsplit("@", 1)[-1].strip("> ") or "localhost"
    mail["Message-ID"] = f"<{job.key.replace(':', '.')}@{domain}>"
    mail["List-Unsubscribe"] = f"<{job.stop_url}>"
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(job.body)
    return mail


def send_email(job: Job) -> Outcome:
    url = current_app.config.get("SMTP_URL")
    if not url:
        return outbox(job)
    settings = smtp_settings(url)
    sender = current_app.config.get("MAIL_FROM") or "no-reply@localhost"
    mail = email_message(job, sender)
    try:
        if settings["implicit_tls"]:
            client = smtplib.SMTP_SSL(settings["host"], settings["port"], timeout=TIMEOUT_SECONDS,
                                      context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(settings["host"], settings["port"], timeout=TIMEOUT_SECONDS)
        with client:
            if settings["starttls"]:
                client.starttls(context=ssl.create_default_context())
            if settings["user"]:
                client.login(settings["user"], settings["password"] or "")
            refused = client.send_message(mail)
    except smtplib.SMTPRecipientsRefused:
        return Outcome(False, error="SMTP: recipient refused", final=True)
    except smtplib.SMTPResponseException as err:
        return Outcome(False, error=f"SMTP {err.smtp_code}", final=500 <= err.smtp_code < 600 and err.smtp_code != 554)
    except (OSError, smtplib.SMTPException):
        return Outcome(False, error="SMTP: no connection")
    if refused:
        return Outcome(False, error="SMTP: recipient refused", final=True)
    return Outcome(True, provider_id=mail["Message-ID"])


# ---------------------------------------------------------------------------------------------------- SMS


def _sms_credentials(tenant_id: int) -> dict | None:
    stored = secrets.load("sms")
    if stored:
        return stored
    config = current_app.config
    if config.get("ESMS_API_KEY") and config.get("ESMS_SECRET_KEY") and config.get("ESMS_BRANDNAME"):
        return {"api_key": config["ESMS_API_KEY"], "secret_key": config["ESMS_SECRET_KEY"],
                "brandname": config["ESMS_BRANDNAME"]}
    return None


def send_sms(job: Job) -> Outcome:
    credentials = _sms_credentials(job.tenant_id)
    if credentials is None:
        return outbox(job)
    body = {
        "ApiKey": credentials["api_key"],
        "SecretKey": credentials["secret_key"],
        "Brandname": credentials["brandname"],
        "Phone": job.address,
        "Content": job.body,
        "SmsType": "2",  # customer care, through the registered brand name
        "IsUnicode": "0",
        "Sandbox": "1" if current_app.config.get("ESMS_SANDBOX") else "0",
        "RequestId": job.key[:50],
    }
    try:
        answer = _http().post(current_app.config.get("ESMS_URL") or ESMS_URL, json=body, timeout=TIMEOUT_SECONDS)
    except requests.RequestException:
        return Outcome(False, error="eSMS: no connection")
    if answer.status_code >= 500:
        return Outcome(False, error=f"eSMS: HTTP {answer.status_code}")
    try:
        data = answer.json()
    except ValueError:
        return Outcome(False, error=f"eSMS: HTTP {answer.status_code}, not JSON")
    code = str(data.get("CodeResult", ""))
    if code == "100":
        return Outcome(True, provider_id=str(data.get("SMSID") or ""))
    return Outcome(False, error=f"eSMS CodeResult {code[:10]}")


# ---------------------------------------------------------------------------------------------------- Zalo ZNS


def _zalo_credentials() -> dict | None:
    stored = secrets.load("zalo")
    if stored:
        return stored
    config = current_app.config
    if config.get("ZALO_ACCESS_TOKEN"):
        return {"app_id": config.get("ZALO_APP_ID") or "", "app_secret": config.get("ZALO_APP_SECRET") or "",
                "access_token": config["ZALO_ACCESS_TOKEN"], "refresh_token": config.get("ZALO_REFRESH_TOKEN") or ""}
    return None


def refresh_zalo_token(credentials: dict) -> dict | None:
    """The one place the OA's access token is renewed: new tokens are stored (encrypted) for the commune."""
    if not credentials.get("refresh_token"):
        return None
    try:
        answer = _http().post(current_app.config.get("ZALO_TOKEN_URL") or ZALO_TOKEN_URL,
                               headers={"secret_key": credentials["app_secret"]},
                               data={"app_id": credentials["app_id"], "grant_type": "refresh_token",
                                     "refresh_token": credentials["refresh_token"]}, timeout=TIMEOUT_SECONDS)
        data = answer.json()
    except (requests.RequestException, ValueError):
        return None
    if not data.get("access_token"):
        return None
    renewed = {**credentials, "access_token": data["access_token"],
               "refresh_token": data.get("refresh_token") or credentials["refresh_token"]}
    secrets.store("zalo", renewed)
    return renewed


def _zalo_post(job: Job, credentials: dict) -> tuple[int | None, dict | None]:
    body = {"phone": job.address, "template_id": job.template_id,
            "template_data": json.loads(job.template_data or "{}"), "tracking_id": job.key[:48]}
    if current_app.config.get("ZALO_DEVELOPMENT_MODE"):
        body["mode"] = "development"
    try:
        answer = _http().post(current_app.config.get("ZALO_URL") or ZALO_URL, json=body, timeout=TIMEOUT_SECONDS,
                               headers={"access_token": credentials["access_token"]})
    except requests.RequestException:
        return None, None
    try:
        return answer.status_code, answer.json()
    except ValueError:
        return answer.status_code, None


def send_zalo(job: Job) -> Outcome:
    credentials = _zalo_credentials()
    if credentials is None:
        return outbox(job)
    if not job.template_id:
        return Outcome(False, error="ZNS: no template for this event", final=True)
    status, data = _zalo_post(job, credentials)
    if data is not None and data.get("error") == ZALO_EXPIRED_TOKEN:
        renewed = refresh_zalo_token(credentials)
        if renewed is None:
            return Outcome(False, error="ZNS: access token expired, refresh failed")
        status, data = _zalo_post(job, renewed)
    if data is None:
        return Outcome(False, error="ZNS: no connection" if status is None else f"ZNS: HTTP {status}")
    if data.get("error") == 0:
        return Outcome(True, provider_id=str((data.get("data") or {}).get("msg_id") or ""))
    return Outcome(False, error=f"ZNS error {str(data.get('error'))[:10]}")


SENDERS = {"email": send_email, "sms": send_sms, "zalo": send_zalo}


def send(job: Job) -> Outcome:
    return SENDERS[job.channel](job)
