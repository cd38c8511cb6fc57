"""The vendors' one door to payments: a vendor's bank accounts (checked, set, closed, the active one) and, for the
vendor's own transfers page, payments' reconciliation functions. Nothing else in tenants/vendors imports
app.payments. See docs/decisions.md ("Vendors")."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, insert, select, update

from app.errors import NotFound, ValidationError
from app.extensions import db
from app.payments import vietqr
from app.payments.accounts import create_account
from app.payments import statuses
from app.payments.bank import reconciliation
from app.payments.banks import all_banks, get_bank
from app.payments.models import BankTransfer, PaymentAccount, PaymentIntent
from app.text import normalize, strip_diacritics
from tenants.vendors.models import VendorAccount


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


ACCOUNT_DIGITS = (6, 19)  # the shortest and the longest account numbers Vietnamese banks give (NAPAS: at most 19)


def check_account_number(number: str) -> str:
    """What a bank account number can be (#19): digits only (a letter O for a zero is a typo), 6 to 19 of them,
    not one digit repeated ("00000000"). Raises ValidationError on the account_number field."""
    low, high = ACCOUNT_DIGITS
    if not (number.isascii() and number.isdigit()):
        raise ValidationError(_l("The account number is not valid: a bank account number has digits only (check for "
                                 "a letter O typed for a zero)."), field="account_number")
    if not low <= len(number) <= high:
        raise ValidationError(_l("The account number is not valid: a bank account number has %(low)s to %(high)s "
                                 "digits.", low=low, high=high), field="account_number")
    if len(set(number)) == 1:
        raise ValidationError(_l("The account number is not valid: one digit repeated is not an account number."),
                              field="account_number")
    return number


def check_bank_details(bank_bin: str | None, account_number: str | None, holder_name: str | None) -> BankDetails:
    """The checks a payment account gets (the bank registry and the VietQR account rules), with messages a commune
    officer or a vendor can act on. Raises ValidationError naming the field; nothing is written."""
    bank_bin = normalize(bank_bin)
    if get_bank(bank_bin) is None:
        raise ValidationError(_l("Unknown bank: choose the bank from the list."), field="bank_bin")
    number = normalize(account_number).replace(" ", "").replace(".", "").replace("-", "")
    if not number:
        raise ValidationError(_l("Enter the account number."), field="account_number")
    check_account_number(number)
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


# The tables behind "vendors with a bank account" (has_active_account): the public figures are stale once they change.
ACCOUNT_MODELS = (PaymentAccount, VendorAccount)


def _accounts_of(vendor_id: int):
    return select(VendorAccount.account_id).where(VendorAccount.vendor_id == vendor_id)


def vendor_account(vendor_id: int) -> PaymentAccount | None:
    """The vendor's active bank account (the newest when one replaced another)."""
    return db.session.scalars(
        select(PaymentAccount)
        .where(PaymentAccount.id.in_(_accounts_of(vendor_id)), PaymentAccount.active.is_(True))
        .order_by(PaymentAccount.id.desc())
    ).first()


def vendor_account_ids(vendor_id: int) -> list[int]:
    """Every account the vendor has had (the transfers into any of them are the vendor's to decide about)."""
    return list(db.session.scalars(_accounts_of(vendor_id).order_by(VendorAccount.account_id)))


def set_vendor_account(vendor, details: BankDetails) -> PaymentAccount:
    """The vendor's bank account becomes ``details``; an earlier account is kept, inactive (its payments stay
    readable). Flushed (accounts.create_account flushes too), so a vendor and its account are saved together by the
    caller or not at all. A bank account already registered in the district is refused (ValidationError)."""
    close_vendor_accounts(vendor.id)
    account = create_account(vendor.business_name[:120], details.bank_bin, details.account_number,
                             details.holder_name, owner_kind="vendor")
    db.session.add(VendorAccount(vendor_id=vendor.id, account_id=account.id))
    db.session.flush()
    return account


def close_vendor_accounts(vendor_id: int) -> None:
    """A deactivated vendor takes no more payments: its accounts stop (existing payments keep their account)."""
    db.session.execute(
        update(PaymentAccount).where(PaymentAccount.id.in_(_accounts_of(vendor_id)), PaymentAccount.active.is_(True))
        .values(active=False).execution_options(synchronize_session=False)
    )


def has_active_account(vendor_id_column, tenant_id_column):
    """SQL for "this vendor has an active bank account", correlated to the caller's vendor columns (figures)."""
    return exists().where(VendorAccount.vendor_id == vendor_id_column, VendorAccount.tenant_id == tenant_id_column,
                          PaymentAccount.id == VendorAccount.account_id,
                          PaymentAccount.tenant_id == VendorAccount.tenant_id, PaymentAccount.active.is_(True))


def active_vendor_accounts():
    """A subquery (vendor_id, bank_bin, account_number) of the active vendor accounts, to join in list pages."""
    return (select(VendorAccount.vendor_id, PaymentAccount.bank_bin, PaymentAccount.account_number)
            .join(PaymentAccount, (PaymentAccount.id == VendorAccount.account_id)
                  & (PaymentAccount.tenant_id == VendorAccount.tenant_id))
            .where(PaymentAccount.active.is_(True)).subquery())


def insert_vendor_accounts(rows: list[dict]) -> None:
    """The demo's bulk insert of vendor accounts, ``vendor_id`` in each row (rows already checked: made from the
    registry's banks): the accounts, then their links, two multi-row INSERTs."""
    if not rows:
        return
    ids = db.session.execute(
        insert(PaymentAccount).returning(PaymentAccount.id, sort_by_parameter_order=True),
        [{key: value for key, value in row.items() if key != "vendor_id"} | {"owner_kind": "vendor", "active": True}
         for row in rows]).scalars().all()
    db.session.execute(insert(VendorAccount), [
        {"tenant_id": row["tenant_id"], "vendor_id": row["vendor_id"], "account_id": account_id}
        for row, account_id in zip(rows, ids, strict=True)])


def bank_details(account: PaymentAccount | None) -> BankDetails | None:
    return BankDetails(account.bank_bin, account.account_number, account.holder_name) if account else None


# --- the transfers into the vendor's accounts that wait for the vendor's decision ----------------------------------
# The money is in the vendor's own account, so only the vendor can send it back: the vendor decides, through the
# same reconciliation functions as the commune's staff, limited to its own transfers (docs/decisions.md, "Seams
# review"). The commune's inbox keeps showing them.

def transfer_labels() -> dict:
    """What the transfers page shows for a transfer's status, source and note (payments' own words)."""
    return {"transfer_status_labels": statuses.TRANSFER_STATUS_LABELS, "provider_labels": statuses.PROVIDER_LABELS,
            "note_labels": statuses.NOTE_LABELS}


def transfers_waiting(tenant_id: int, vendor_id: int) -> int:
    return reconciliation.inbox_count(tenant_id, vendor_account_ids(vendor_id))


def transfers_to_check(tenant_id: int, vendor_id: int, page: int, per_page: int) -> list[tuple]:
    """(transfer, its payment's public id, its payment's reference) per transfer, newest first: one query."""
    return db.session.execute(
        reconciliation.inbox_query(tenant_id, vendor_account_ids(vendor_id))
        .add_columns(PaymentIntent.public_id, PaymentIntent.reference_code)
        .outerjoin(PaymentIntent, PaymentIntent.id == BankTransfer.intent_id)
        .limit(per_page).offset((page - 1) * per_page)
    ).all()


def check_transfer_is_theirs(transfer_id: int, tenant_id: int, vendor_id: int) -> None:
    """NotFound (a 404) for a transfer that is not the vendor's, handled or not; nothing for the vendor's own."""
    try:
        reconciliation.get_inbox_transfer(transfer_id, tenant_id, account_ids=vendor_account_ids(vendor_id))
    except ValidationError:
        pass  # the vendor's own, already handled: the caller says what is wrong with the form


def _payment_public_id(given: str) -> str:
    """A payment named by its id (pi_...) or by the reference code of its transfer memo (in the active commune)."""
    if given.startswith("pi_"):
        return given
    public_id = db.session.scalar(select(PaymentIntent.public_id)
                                  .where(PaymentIntent.reference_code == given.upper()))
    if public_id is None:
        raise ValidationError(_l("No such payment."), field="intent")
    return public_id


def assign_transfer(transfer_id: int, tenant_id: int, vendor_id: int, payment: str, actor) -> BankTransfer:
    """The vendor applies its unmatched transfer to one of its own payments. A payment that is not the vendor's is
    a mistake in the form (ValidationError), a transfer that is not the vendor's a 404."""
    try:
        return reconciliation.assign(transfer_id, tenant_id, _payment_public_id(payment.strip()), actor,
                                     account_ids=vendor_account_ids(vendor_id))
    except NotFound as err:
        if err.field is None:
            raise
        raise ValidationError(err.message, field=err.field) from None


def accept_late_transfer(transfer_id: int, tenant_id: int, vendor_id: int, actor) -> BankTransfer:
    return reconciliation.accept_late(transfer_id, tenant_id, actor, account_ids=vendor_account_ids(vendor_id))


def resolve_transfer(transfer_id: int, tenant_id: int, vendor_id: int, actor, note: str) -> BankTransfer:
    return reconciliation.resolve(transfer_id, tenant_id, actor, note, account_ids=vendor_account_ids(vendor_id))
