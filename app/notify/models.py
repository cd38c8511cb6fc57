"""The outbox and what it needs: who asked to hear what (a subscription, with the channel chosen or none), each
message to send (written in the same transaction as the event), and each commune's provider secrets (encrypted).

NotifySubscription  a person's contact for one record (a dossier, an order, a vendor's daily summary): the channel
                    they chose (email, sms, zalo or none), the address, the language, a token for the link that
                    changes or stops it. Personal data: purpose, retention and erasure in docs/operations.md.
NotifyMessage       one message to one address by one channel, with its text as it will arrive, its status
                    (pending, sent, failed, canceled), its attempts, and the lease a worker holds while sending.
NotifySecret        a commune's own provider credentials (SMS brand name, Zalo OA), Fernet-encrypted.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Index, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db, one_of
from tenants.scoping import TenantScoped

CHANNELS = ("email", "sms", "zalo")
CHOICES = ("email", "sms", "zalo", "none")  # what a person may choose
STATUSES = ("pending", "sent", "failed", "canceled")
PROVIDERS = ("sms", "zalo")


class NotifySubscription(TenantScoped, db.Model):
    __tablename__ = "notify_subscriptions"
    __table_args__ = (
        UniqueConstraint("token"),
        UniqueConstraint("tenant_id", "subject"),
        CheckConstraint(one_of("channel", CHOICES), name="channel"),
        CheckConstraint(one_of("locale", ("vi", "en")), name="locale"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(60))  # "dossier:12", "order:7", "vendor:3"
    channel: Mapped[str] = mapped_column(String(10))
    phone: Mapped[str] = mapped_column(String(20), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    locale: Mapped[str] = mapped_column(String(5), default="vi")
    token: Mapped[str] = mapped_column(String(43))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class NotifyMessage(TenantScoped, db.Model):
    __tablename__ = "notify_messages"
    __table_args__ = (
        UniqueConstraint("key"),
        CheckConstraint(one_of("status", STATUSES), name="status"),
        CheckConstraint(one_of("channel", CHANNELS), name="channel"),
        CheckConstraint("attempts >= 0", name="attempts"),
        Index("ix_notify_messages_due", "status", "next_attempt_at"),
        Index("ix_notify_messages_tenant_subject", "tenant_id", "subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120))  # one event, one message: also the provider's idempotency key
    subject: Mapped[str] = mapped_column(String(60))
    event: Mapped[str] = mapped_column(String(40))
    subscription_id: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(10))
    address: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(5), default="vi")
    title: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    template_id: Mapped[str] = mapped_column(String(40), default="")  # Zalo ZNS
    template_data: Mapped[str] = mapped_column(Text, default="")  # Zalo ZNS, JSON
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    leased_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    provider_id: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class NotifySecret(TenantScoped, db.Model):
    __tablename__ = "notify_secrets"
    __table_args__ = (
        UniqueConstraint("tenant_id", "provider"),
        CheckConstraint(one_of("provider", PROVIDERS), name="provider"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(10))
    ciphertext: Mapped[str] = mapped_column(Text)
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
