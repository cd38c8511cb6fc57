"""The vendors' one door to payments: a vendor's bank accounts (checked, set, closed, the active one) and, for the
vendor's own transfers page, payments' reconciliation functions. Nothing else in tenants/vendors imports
app.payments. See docs/decisions.md ("Vendors")."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, insert, select, update

from app.errors import ValidationError
from app.extensions import db
from app.payments import vietqr
from app.payments.accounts import create_account
from app.payments.banks import all_banks, get_bank
from app.payments.models import PaymentAccount
from app.text import normalize, strip_diacritics


@dataclass(frozen=True)
class BankDetails:
    bank_bin: str
    account_number: str
    holder_name: str

    @property
    def bank_name(self) -> str:
        bank = get_bank(self.bank_bin)
        return bank.short_name if bank else self.bank_bin


def bank_choices() -> list[tuple[str, str]]:
    return [(b.bin, f"{b.short_name} – {b.name}") for b in all_banks()]


def holder_name_for_banks(name: str | None) -> str:
    """The holder name as banks print it: upper case, no tone marks, single spaces ("Nguyễn Văn An" -> "NGUYEN VAN AN",
    đ -> D)."""
    return " ".join(strip_diacritics(normalize(name)).upper().split())


def check_bank_details(bank_bin: str | None, account_number: str | None, holder_name: str | None) -> BankDetails:
    """The checks a payment account gets (the bank registry and the VietQR account rules), with messages a commune
    officer or a vendor can act on. Raises ValidationError naming the field; nothing is written."""
    bank_bin = normalize(bank_bin)
    if get_bank(bank_bin) is None:
        raise ValidationError(_l("Unknown bank: choose the bank from the list."), field="bank_bin")
    number = normalize(account_number).replace(" ", "").replace(".", "").replace("-", "")
    if not number:
        raise ValidationError(_l("Enter the account number."), field="account_number")
    try:
        vietqr.encode(bank_bin, number)
    except vietqr.VietQRError as err:
        if err.field == "account":
            raise ValidationError(
                _l("The account number is not valid: use only letters and digits, %(max)s characters at most.",
                   max=vietqr.MAX_ACCOUNT_LEN), field="account_number") from None
        raise ValidationError(_l("Unknown bank: choose the bank from the list."), field="bank_bin") from None
    holder = holder_name_for_banks(holder_name)
    if not holder:
        raise ValidationError(_l("Enter the account holder's name."), field="holder_name")
    if len(holder) > 120 or not all(ch == " " or (ch.isascii() and ch.isalpha()) for ch in holder):
        raise ValidationError(_l("The holder name may contain only letters and spaces (120 at most)."),
                              field="holder_name")
    return BankDetails(bank_bin, number, holder)


# The table behind "vendors with a bank account" (has_active_account): the public figures are stale once it changes.
ACCOUNT_MODEL = PaymentAccount


def vendor_account(vendor_id: int) -> PaymentAccount | None:
    """The vendor's active bank account (the newest when one replaced another)."""
    return db.session.scalars(
        select(PaymentAccount)
        .where(PaymentAccount.vendor_id == vendor_id, PaymentAccount.active.is_(True))
        .order_by(PaymentAccount.id.desc())
    ).first()


def set_vendor_account(vendor, details: BankDetails) -> PaymentAccount:
    """The vendor's bank account becomes ``details``; an earlier account is kept, inactive (its payments stay
    readable). Flushed (accounts.create_account flushes too), so a vendor and its account are saved together by the
    caller or not at all. A bank account already registered in the district is refused (ValidationError)."""
    db.session.execute(
        update(PaymentAccount)
        .where(PaymentAccount.vendor_id == vendor.id, PaymentAccount.active.is_(True))
        .values(active=False)
    )
    return create_account(vendor.business_name[:120], details.bank_bin, details.account_number,
                          details.holder_name, owner_kind="vendor", vendor_id=vendor.id)


def close_vendor_accounts(vendor_id: int) -> None:
    """A deactivated vendor takes no more payments: its accounts stop (existing payments keep their account)."""
    db.session.execute(
        update(PaymentAccount).where(PaymentAccount.vendor_id == vendor_id).values(active=False)
    )


def has_active_account(vendor_id_column, tenant_id_column):
    """SQL for "this vendor has an active bank account", correlated to the caller's vendor columns (figures)."""
    return exists().where(PaymentAccount.vendor_id == vendor_id_column, PaymentAccount.tenant_id == tenant_id_column,
                          PaymentAccount.active.is_(True))


def active_vendor_accounts():
    """A subquery (vendor_id, bank_bin, account_number) of the active vendor accounts, to join in list pages."""
    return (select(PaymentAccount.vendor_id, PaymentAccount.bank_bin, PaymentAccount.account_number)
            .where(PaymentAccount.active.is_(True), PaymentAccount.vendor_id.is_not(None)).subquery())


def insert_vendor_accounts(rows: list[dict]) -> None:
    """The demo's bulk insert of vendor accounts (rows already checked: made from the registry's banks)."""
    if rows:
        db.session.execute(insert(PaymentAccount), [{**row, "owner_kind": "vendor", "active": True} for row in rows])


def bank_details(account: PaymentAccount | None) -> BankDetails | None:
    return BankDetails(account.bank_bin, account.account_number, account.holder_name) if account else None
