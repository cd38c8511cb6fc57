"""Fixtures of the notification tests: the providers' local stand-ins (tests/notify/servers.py), wired into the app's
configuration for one test; helpers to read the outbox and run the worker."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.notify.models import NotifyMessage, NotifySubscription
from tenants.scoping import all_tenants
from tests.notify.servers import EsmsServer, SmtpServer, ZaloServer


@pytest.fixture
def smtp(app, monkeypatch):
    server = SmtpServer().start()
    monkeypatch.setitem(app.config, "SMTP_URL", server.url)
    monkeypatch.setitem(app.config, "MAIL_FROM", "Xã Bát Tràng <no-reply@battrang.example.vn>")
    yield server
    server.stop()


@pytest.fixture
def esms(app, monkeypatch):
    server = EsmsServer().start()
    for key, value in {"ESMS_URL": server.url, "ESMS_API_KEY": "api-key", "ESMS_SECRET_KEY": "secret-key",
                       "ESMS_BRANDNAME": "UBND BATTRANG"}.items():
        monkeypatch.setitem(app.config, key, value)
    yield server
    server.stop()


@pytest.fixture
def zalo(app, monkeypatch):
    server = ZaloServer().start()
    for key, value in {"ZALO_URL": server.url, "ZALO_TOKEN_URL": server.token_url, "ZALO_APP_ID": "app-1",
                       "ZALO_APP_SECRET": "app-secret", "ZALO_ACCESS_TOKEN": "good-token",
                       "ZALO_REFRESH_TOKEN": "refresh-1"}.items():
        monkeypatch.setitem(app.config, key, value)
    yield server
    server.stop()


def messages(app, **where) -> list[dict]:
    with app.app_context(), all_tenants():
        query = select(NotifyMessage).order_by(NotifyMessage.id)
        for name, value in where.items():
            query = query.where(getattr(NotifyMessage, name) == value)
        return [{c.name: getattr(m, c.name) for c in NotifyMessage.__table__.columns}
                for m in db.session.scalars(query)]


def subscriptions(app) -> list[dict]:
    with app.app_context(), all_tenants():
        return [{c.name: getattr(s, c.name) for c in NotifySubscription.__table__.columns}
                for s in db.session.scalars(select(NotifySubscription).order_by(NotifySubscription.id))]


def drain(app, now=None, limit: int = 100) -> int:
    from app.notify.worker import deliver_due

    with app.app_context():
        return deliver_due(now=now, limit=limit)
