"""Payments' part of the scale data (``flask seed-scale``, app/scale.py): payee accounts with numbers unique across
the install, reference codes made from intent ids, and the payment intents the domains' loaders ask for, COPYed
before the rows that point at them. The loaders get it as ``run.money`` and import nothing of payments."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Table, text

from app.payments import vietqr
from app.payments.bank.notifications import REFERENCE_ALPHABET, REFERENCE_LENGTH
from app.payments.banks import all_banks
from app.payments.models import PaymentAccount, PaymentIntent
from app.scale import Codes, IdBlocks, copy_rows, reserve_ids

ACCOUNT_COLUMNS = ("id", "tenant_id", "owner_kind", "label", "bank_bin", "account_number", "holder_name", "active")
INTENT_COLUMNS = (
    "id", "tenant_id", "public_id", "account_id", "amount", "amount_received", "amount_refunded", "currency",
    "status", "reference_code", "description", "purpose", "metadata", "qr_payload", "expires_at", "created_at",
    "updated_at", "succeeded_at", "cancellation_reason", "canceled_at",
)


@dataclass(frozen=True)
class Account:
    id: int
    bank_bin: str
    account_number: str


class AccountNumbers:
    """Account numbers unique across the install: a prefix no other seed uses, then a running number."""

    def __init__(self, connection, prefix: str) -> None:
        width = PaymentAccount.__table__.c.account_number.type.length - len(prefix) - 2
        last = connection.execute(text("SELECT max(account_number) FROM payment_accounts WHERE account_number LIKE "
                                       ":p"), {"p": prefix + "%"}).scalar()
        self.prefix, self.width = prefix, width
        self.next = int(last[len(prefix):]) + 1 if last else 1

    def take(self) -> str:
        number = f"{self.prefix}{self.next:0{self.width}d}"
        self.next += 1
        return number


class Money:
    def __init__(self, connection, prefix: str) -> None:
        self.numbers = AccountNumbers(connection, "9766")
        self.bins = [bank.bin for bank in all_banks()][:20]
        self.reference = Codes(prefix, REFERENCE_ALPHABET, REFERENCE_LENGTH)
        self.ttl = timedelta(minutes=current_app.config.get("PAYMENT_INTENT_TTL_MINUTES") or 30)  # an intent's life

    # --- accounts -------------------------------------------------------------------------------------------------

    def commune_accounts(self, connection, tenants, bar) -> dict[int, Account]:
        """One fee account per commune; returns tenant id -> its account."""
        first = reserve_ids(connection, PaymentAccount.__table__, len(tenants))
        accounts, rows = {}, []
        for i, (tenant_id, _code, display) in enumerate(tenants):
            account = Account(first + i, self.bins[i % len(self.bins)], self.numbers.take())
            accounts[tenant_id] = account
            rows.append((account.id, tenant_id, "commune", f"Lệ phí - {display}"[:120], account.bank_bin,
                         account.account_number, f"UBND {display}".upper()[:120], True))
        with bar("Fee accounts", len(rows)) as progress:
            copy_rows(connection, PaymentAccount.__table__, ACCOUNT_COLUMNS, rows, progress)
        return accounts

    def payee_accounts(self, connection, payees: list[tuple[int, str, str]], bar, label: str) -> list[Account]:
        """An account for each of ``payees`` (tenant id, account label, holder name) paid on behalf of someone
        other than the commune (``owner_kind`` "vendor"), in order, each on the next bank of the list."""
        first = reserve_ids(connection, PaymentAccount.__table__, len(payees))
        accounts = [Account(first + i, self.bins[i % len(self.bins)], self.numbers.take()) for i in range(len(payees))]

        def rows():
            for account, (tenant_id, name, holder) in zip(accounts, payees, strict=True):
                yield (account.id, tenant_id, "vendor", name, account.bank_bin, account.account_number, holder, True)

        with bar(label, len(payees)) as progress:
            copy_rows(connection, PaymentAccount.__table__, ACCOUNT_COLUMNS, rows(), progress)
        return accounts

    # --- intents --------------------------------------------------------------------------------------------------

    def reserve_intents(self, connection, n: int) -> int:
        """The first of ``n`` consecutive intent ids."""
        return reserve_ids(connection, PaymentIntent.__table__, n)

    def intent_ids(self, connection) -> IdBlocks:
        """Intent ids taken as rows are made, when their number is not known beforehand."""
        return IdBlocks(connection, PaymentIntent.__table__)

    def intent(self, intent_id: int, tenant_id: int, account: Account, amount: int, *, status: str,
               received: int, description: str, purpose: str, metadata: str, expires_at: datetime,
               created_at: datetime, updated_at: datetime, succeeded_at: datetime | None = None,
               cancellation_reason: str | None = None, canceled_at: datetime | None = None,
               public_id: str | None = None) -> tuple:
        """One intent row (INTENT_COLUMNS) on ``account``, its reference code made from its id and its VietQR
        naming the account, the amount and that code, as ``intents.create_intent`` makes them."""
        reference = self.reference(intent_id)
        return (intent_id, tenant_id, public_id or f"pi_{secrets.token_hex(12)}", account.id, amount, received, 0,
                "vnd", status, reference, description, purpose, metadata,
                vietqr.encode(account.bank_bin, account.account_number, amount=amount, memo=reference), expires_at,
                created_at, updated_at, succeeded_at, cancellation_reason, canceled_at)

    def copy_intents(self, connection, rows: Iterable[tuple], bar=None) -> int:
        return copy_rows(connection, PaymentIntent.__table__, INTENT_COLUMNS, rows, bar)

    def copy_with_intents(self, connection, rows: Iterable[tuple], intents: list, table: Table,
                          columns: tuple[str, ...], chunk_size: int = 50_000) -> int:
        """COPY ``rows`` into ``table`` by chunks, each after the payment intents its rows point at (the generator of
        ``rows`` appends them to ``intents``, which is emptied at every chunk); returns the rows written."""
        written, chunk = 0, []

        def flush() -> int:
            if intents:
                self.copy_intents(connection, intents)
                intents.clear()
            count = copy_rows(connection, table, columns, chunk) if chunk else 0
            chunk.clear()
            return count

        for row in rows:
            chunk.append(row)
            if len(chunk) >= chunk_size:
                written += flush()
        return written + flush()
