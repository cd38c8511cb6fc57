"""The payment primitive and what hangs off it.

PaymentAccount   a payee's bank account (a commune's fee account, a vendor's account), owner of API keys
PaymentIntent    one payment: amount, reference code (in the transfer memo), status, expiry, the VietQR payload
Event            what happened to an intent (Stripe's event shape), delivered to WebhookEndpoints
BankTransfer     one transfer as reported by a bank-notification service, statement import or a person; recorded
                 once per provider transaction id and once per (receiving account, bank reference) whatever
                 reports it, matched to an intent (or, going out, to a refund) or left in the reconciliation inbox
Refund           money given back for an intent, by a bank transfer to the payer from the account that received it

Every table but bank_transfers is tenant-owned. A bank notification arrives before anyone knows its commune, so
bank_transfers is an ingestion log with a nullable tenant_id (filled when the payee account is recognised); its
reads go through explicit, tenant-filtered queries in payments/bank/reconciliation.py, and on PostgreSQL it has the
tenant RLS policy too (a NULL tenant_id is visible only across tenants).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db, one_of
from app.payments.statuses import (
    INTENT_STATUSES,
    REFUND_CONFIRMATIONS,
    REFUND_REASONS,
    REFUND_STATUSES,
    TRANSFER_STATUSES,
)
from tenants.scoping import RemembersOrigin, TenantScoped


class PaymentAccount(TenantScoped, db.Model):
    __tablename__ = "payment_accounts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        # An account is its bank and its number: the same number at two banks is two accounts, one bank and number
        # is one account in the whole district (whichever commune registers it first).
        UniqueConstraint("bank_bin", "account_number"),
        CheckConstraint("owner_kind IN ('commune', 'vendor')", name="owner_kind"),
        Index("ix_payment_accounts_tenant_bank_account", "tenant_id", "bank_bin", "account_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_kind: Mapped[str] = mapped_column(String(10), default="commune")
    label: Mapped[str] = mapped_column(String(120))
    bank_bin: Mapped[str] = mapped_column(String(6))
    account_number: Mapped[str] = mapped_column(String(19), index=True)
    holder_name: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Merchants who bring their own bank-notification service keep their secrets here (plaintext: HMAC needs it).
    sepay_api_key: Mapped[str | None] = mapped_column(String(255))
    sepay_webhook_secret: Mapped[str | None] = mapped_column(String(255))
    casso_checksum_key: Mapped[str | None] = mapped_column(String(255))
    payos_checksum_key: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ApiKey(TenantScoped, db.Model):
    """A secret key, shown once; only its SHA-256 is kept (keys are long random strings, not passwords)."""

    __tablename__ = "api_keys"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "account_id"], ["payment_accounts.tenant_id", "payment_accounts.id"],
                             ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(Integer, index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    display_prefix: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    account: Mapped[PaymentAccount] = relationship(
        primaryjoin="and_(ApiKey.account_id == PaymentAccount.id, ApiKey.tenant_id == PaymentAccount.tenant_id)",
        foreign_keys="[ApiKey.tenant_id, ApiKey.account_id]", viewonly=True, lazy="joined",
    )


class PaymentIntent(TenantScoped, RemembersOrigin, db.Model):
    __tablename__ = "payment_intents"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        ForeignKeyConstraint(["tenant_id", "account_id"], ["payment_accounts.tenant_id", "payment_accounts.id"]),
        CheckConstraint("amount > 0 AND amount <= 9999999999999", name="amount_positive"),
        CheckConstraint("amount_received >= 0", name="amount_received_nonnegative"),
        CheckConstraint("amount_refunded >= 0", name="amount_refunded_nonnegative"),
        CheckConstraint("currency = 'vnd'", name="currency_vnd"),
        CheckConstraint(one_of("status", INTENT_STATUSES), name="status"),
        Index("ix_payment_intents_tenant_account_created", "tenant_id", "account_id", "id"),
        # The district's money received: succeeded payments of every commune in a period (0014_district).
        Index("ix_payment_intents_succeeded_at", "succeeded_at",
              postgresql_include=["tenant_id", "account_id", "amount_received", "origin_tenant_id"],  # 0036
              postgresql_where=text("status = 'succeeded'"), sqlite_where=text("status = 'succeeded'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    account_id: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)
    amount_received: Mapped[int] = mapped_column(BigInteger, default=0)
    # Refunds pending or succeeded (refunds.py): never more than the money received for the intent.
    amount_refunded: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    currency: Mapped[str] = mapped_column(String(3), default="vnd")
    status: Mapped[str] = mapped_column(String(30))
    reference_code: Mapped[str] = mapped_column(String(20), unique=True)
    description: Mapped[str | None] = mapped_column(String(500))
    purpose: Mapped[str] = mapped_column(String(30), default="api")
    metadata_: Mapped[dict] = mapped_column("metadata", JSON, default=dict)
    qr_payload: Mapped[str] = mapped_column(String(512))
    flag: Mapped[str | None] = mapped_column(String(20))  # short, overpaid, late: needs a person's look
    cancellation_reason: Mapped[str | None] = mapped_column(String(30))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 onupdate=func.now())
    succeeded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    canceled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    account: Mapped[PaymentAccount] = relationship(
        primaryjoin="and_(PaymentIntent.account_id == PaymentAccount.id, "
                    "PaymentIntent.tenant_id == PaymentAccount.tenant_id)",
        foreign_keys="[PaymentIntent.tenant_id, PaymentIntent.account_id]", viewonly=True, lazy="joined",
    )


class Event(TenantScoped, db.Model):
    __tablename__ = "payment_events"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        ForeignKeyConstraint(["tenant_id", "account_id"], ["payment_accounts.tenant_id", "payment_accounts.id"]),
        Index("ix_payment_events_tenant_account_id", "tenant_id", "account_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    account_id: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(60))
    intent_id: Mapped[int | None] = mapped_column(ForeignKey("payment_intents.id", ondelete="SET NULL"))
    data: Mapped[dict] = mapped_column(JSON)
    request_id: Mapped[str | None] = mapped_column(String(40))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class WebhookEndpoint(TenantScoped, db.Model):
    __tablename__ = "webhook_endpoints"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        ForeignKeyConstraint(["tenant_id", "account_id"], ["payment_accounts.tenant_id", "payment_accounts.id"],
                             ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    account_id: Mapped[int] = mapped_column(Integer, index=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(100))  # plaintext: needed to sign each delivery
    enabled_events: Mapped[list] = mapped_column(JSON, default=lambda: ["*"])
    description: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(10), default="enabled")
    metadata_: Mapped[dict] = mapped_column("metadata", JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class WebhookDelivery(TenantScoped, db.Model):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "endpoint_id"),
        CheckConstraint("status IN ('pending', 'succeeded', 'failed')", name="status"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("payment_events.id", ondelete="CASCADE"))
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    event: Mapped[Event] = relationship(lazy="joined")
    endpoint: Mapped[WebhookEndpoint] = relationship(lazy="joined")


class IdempotencyRecord(TenantScoped, db.Model):
    """Stripe's semantics: the first response is kept and replayed; other parameters are an error; 24 h life."""

    __tablename__ = "idempotency_records"
    __table_args__ = (
        UniqueConstraint("tenant_id", "account_id", "key"),
        Index("ix_idempotency_records_created_at", "created_at"),  # pruning after 24 h
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(255))
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Set in the transaction that commits the request's work: a record without it did nothing (yet).
    committed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class BankTransfer(db.Model):
    __tablename__ = "bank_transfers"
    __table_args__ = (
        # A transaction id is unique per provider *and receiving account*: a bank-statement export numbers its own
        # rows (1, 2, 3...), so two communes' statements share ids. No account (NULL) counts as one account.
        Index("uq_bank_transfers_provider_account_txn", "provider", text("coalesce(bank_bin, '')"),
              text("coalesce(account_number, '')"), "provider_txn_id", unique=True),
        # One transfer, one record: the bank's own reference names a transfer in its receiving account, whichever
        # source (SePay, Casso, payOS, a statement) reports it. NULL references never collide.
        Index("uq_bank_transfers_account_reference", text("coalesce(bank_bin, '')"),
              text("coalesce(account_number, '')"), "bank_reference", unique=True),
        CheckConstraint(one_of("status", TRANSFER_STATUSES), name="status"),
        CheckConstraint("amount >= 0", name="amount_nonnegative"),
        Index("ix_bank_transfers_tenant_status", "tenant_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))  # sepay, casso, payos, statement, manual
    provider_txn_id: Mapped[str] = mapped_column(String(100))
    amount: Mapped[int] = mapped_column(BigInteger)
    content: Mapped[str] = mapped_column(String(1000), default="")
    account_number: Mapped[str | None] = mapped_column(String(40))
    bank: Mapped[str | None] = mapped_column(String(100))
    bank_bin: Mapped[str | None] = mapped_column(String(6))  # the receiving account's bank, when known
    bank_reference: Mapped[str | None] = mapped_column(String(100))  # the bank's own reference of the transfer
    # The other side (the payer of money in, the payee of money out) when the source names it: refunds go there.
    counter_bank_bin: Mapped[str | None] = mapped_column(String(6))
    counter_account_number: Mapped[str | None] = mapped_column(String(40))
    counter_account_name: Mapped[str | None] = mapped_column(String(120))
    occurred_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    raw: Mapped[dict] = mapped_column(JSON, default=dict)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id"), index=True)
    intent_id: Mapped[int | None] = mapped_column(ForeignKey("payment_intents.id"), index=True)
    status: Mapped[str] = mapped_column(String(12))
    note: Mapped[str | None] = mapped_column(String(1000))
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Refund(TenantScoped, db.Model):
    """Money given back for an intent: pending until an outgoing transfer with ``reference_code`` in its memo is
    seen (or staff confirm it by hand), then succeeded; failed or canceled give the amount back to the intent."""

    __tablename__ = "payment_refunds"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        ForeignKeyConstraint(["tenant_id", "account_id"], ["payment_accounts.tenant_id", "payment_accounts.id"]),
        ForeignKeyConstraint(["tenant_id", "intent_id"], ["payment_intents.tenant_id", "payment_intents.id"]),
        CheckConstraint("amount > 0 AND amount <= 9999999999999", name="amount_positive"),
        CheckConstraint("currency = 'vnd'", name="currency_vnd"),
        CheckConstraint(one_of("status", REFUND_STATUSES), name="status"),
        CheckConstraint("reason IS NULL OR " + one_of("reason", REFUND_REASONS), name="reason"),
        CheckConstraint("confirmation IS NULL OR " + one_of("confirmation", REFUND_CONFIRMATIONS),
                        name="confirmation"),
        Index("ix_payment_refunds_tenant_account_id", "tenant_id", "account_id", "id"),
        Index("ix_payment_refunds_tenant_intent", "tenant_id", "intent_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    account_id: Mapped[int] = mapped_column(Integer)
    intent_id: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="vnd")
    status: Mapped[str] = mapped_column(String(10), default="pending")
    reason: Mapped[str | None] = mapped_column(String(30))
    reference_code: Mapped[str] = mapped_column(String(20), unique=True)  # the memo of the outgoing transfer
    metadata_: Mapped[dict] = mapped_column("metadata", JSON, default=dict)
    # Where the money goes: the payer's account, from the incoming transfer or entered by staff.
    destination_bank_bin: Mapped[str | None] = mapped_column(String(6))
    destination_account_number: Mapped[str | None] = mapped_column(String(19))
    destination_account_name: Mapped[str | None] = mapped_column(String(120))
    source_transfer_id: Mapped[int | None] = mapped_column(ForeignKey("bank_transfers.id"), index=True)
    outgoing_transfer_id: Mapped[int | None] = mapped_column(ForeignKey("bank_transfers.id"), index=True)
    confirmation: Mapped[str | None] = mapped_column(String(10))
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    failure_reason: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 onupdate=func.now())
    succeeded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    intent: Mapped[PaymentIntent] = relationship(
        primaryjoin="and_(Refund.intent_id == PaymentIntent.id, Refund.tenant_id == PaymentIntent.tenant_id)",
        foreign_keys="[Refund.tenant_id, Refund.intent_id]", viewonly=True, lazy="joined",
    )


CLAIM_STATUSES = ("open", "settled")


class PaymentClaim(TenantScoped, db.Model):
    """A person's word that money arrived ("I have received the money", "confirm by hand"): who, when, why. It lets
    the intent's domain go on (the sale is paid, the sub-order sold) but it is not money: ``amount_received`` and
    every refund ceiling count only transfers a bank source reported. The bank's own report of the payment settles
    the claim (``settled_transfer_id``); a claim still open after ``PAYMENT_CLAIM_DAYS`` shows in the inbox."""

    __tablename__ = "payment_claims"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        ForeignKeyConstraint(["tenant_id", "intent_id"], ["payment_intents.tenant_id", "payment_intents.id"]),
        CheckConstraint("amount > 0 AND amount <= 9999999999999", name="amount_positive"),
        CheckConstraint(one_of("status", CLAIM_STATUSES), name="status"),
        Index("ix_payment_claims_tenant_intent", "tenant_id", "intent_id"),
        Index("ix_payment_claims_tenant_status_claimed", "tenant_id", "status", "claimed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    intent_id: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10), default="open")
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    claimed_by: Mapped[str] = mapped_column(String(254))  # how the person signs in (e-mail or phone), kept if the user is deleted
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str] = mapped_column(String(1000), default="")
    settled_transfer_id: Mapped[int | None] = mapped_column(ForeignKey("bank_transfers.id"), index=True)
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
