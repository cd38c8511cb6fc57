"""Bank-statement import: a CSV exported from the bank, one row per transfer, into ``confirm_transfer``.

The header names the columns (any order, case and diacritics ignored, comma or semicolon separated):

    transaction_id,date,amount,content          or, in Vietnamese,   ma_giao_dich,ngay,so_tien,noi_dung

and optionally ``reference`` (``ma_tham_chieu``, ``so_tham_chieu``): the bank's own reference of the transfer, by
which a transfer already reported by SePay, Casso or payOS is recognised and not recorded twice.

- ``amount``: whole đồng, "1250000" or with thousands separators "1.250.000" / "1,250,000", an optional ₫, đ or
  VND; a negative amount is money going out (recorded as outgoing, never matched).
- ``date``: "dd/mm/yyyy HH:MM" (seconds optional, or a date alone) or ISO 8601; Vietnam time unless it has an
  offset. It is the bank's time, by which lateness is judged; a date alone counts as the end of that day.
- ``content``: the transfer text where the reference code is looked for (may be empty: the row waits in the inbox).

Every valid row becomes ``BankTransaction(provider="statement", provider_txn_id=<transaction_id>,
account_number=<the account's number>, bank_bin=<its bank>, account_ids=(<the account>,))`` and goes through
``confirm_transfer``: a statement applies only to intents of the account it was imported for, so importing the same statement
twice changes nothing the second time (those rows are counted as ``already_recorded``). Invalid rows are reported
with their line number and skipped; a file without a usable header is refused as a whole (``StatementError``).
"""

from __future__ import annotations

import csv
import io
import re
from functools import partial
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from flask_babel import lazy_gettext as _l

from app import transactions
from app.errors import DomainError, ValidationError
from app.payments.models import PaymentAccount
from app.formatting import VN_TZ
from app.payments.bank.notifications import EARLIEST_DATE, LATEST_YEAR, BankTransaction
from app.payments.bank.reconciliation import confirm_transfer
from app.text import fold

MAX_ROWS = 5000
MAX_BYTES = 2 * 1024 * 1024
ALREADY_RECORDED = "already_recorded"

COLUMNS = ("transaction_id", "date", "amount", "content")
HEADER_ALIASES = {
    "transaction_id": "transaction_id", "ma_giao_dich": "transaction_id",
    "date": "date", "ngay": "date",
    "amount": "amount", "so_tien": "amount",
    "content": "content", "noi_dung": "content",
    "reference": "reference", "ma_tham_chieu": "reference", "so_tham_chieu": "reference",
}
OPTIONAL_COLUMNS = ("reference",)  # the bank's own reference: the same transfer reported by a gateway is one record

_AMOUNT = re.compile(r"^([+-]?)(\d{1,3}(?:\.\d{3})+|\d{1,3}(?:,\d{3})+|\d+)$")
_CURRENCY = re.compile(r"(₫|vnd|vnđ|đ|d)$", re.IGNORECASE)
_DATE_FORMATS = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M",
                 "%d-%m-%Y")


class StatementError(ValidationError):
    """The file as a whole cannot be read (no usable header, not text, too large)."""


@dataclass
class RowError:
    line: int
    message: str


@dataclass
class ImportResult:
    """``counts``: rows per resulting transfer status (matched, short, overpaid, late, duplicate, unmatched,
    outgoing) plus ``already_recorded``; ``errors``: rows skipped, with their line number in the file."""

    counts: dict[str, int] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return sum(n for status, n in self.counts.items() if status != ALREADY_RECORDED)


def decode_statement(data: bytes) -> str:
    """Bytes of an uploaded file -> text (UTF-8, with or without BOM)."""
    if len(data) > MAX_BYTES:
        raise StatementError(_l("The file is too large (2 MB at most)."))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise StatementError(_l("The file is not UTF-8 text. Export the statement as CSV (UTF-8).")) from None


def parse_amount(text: str | None) -> int:
    """ "1.250.000", "1,250,000", "1250000", "1.250.000 ₫", "-500.000" -> int; ValueError otherwise."""
    value = (text or "").strip().replace("\u00a0", "").replace(" ", "")
    value = _CURRENCY.sub("", value)
    value = re.sub(r"(?<=\d)[.,]00?$", "", value)  # "1.250.000,00": a zero decimal part (đồng has no minor unit)
    match = _AMOUNT.match(value)
    if not match:
        raise ValueError(text)
    number = int(match.group(2).replace(".", "").replace(",", ""))
    return -number if match.group(1) == "-" else number


def parse_date(text: str | None) -> datetime:
    value = (text or "").strip()
    if not value:
        raise ValueError(text)
    parsed = None
    for fmt in _DATE_FORMATS:
        try:
            parsed = datetime.strptime(value, fmt)
            break
        except ValueError:
            continue
    try:
        if parsed is None:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=VN_TZ)
        parsed = parsed.astimezone(timezone.utc)
    except OverflowError:  # year 1 (or 9999) leaves the calendar once moved to UTC
        raise ValueError(text) from None
    if not EARLIEST_DATE <= parsed <= EARLIEST_DATE.replace(year=LATEST_YEAR):
        raise ValueError(text)
    return parsed


def _header_key(name: str) -> str:
    return fold(name).replace(" ", "_").replace("-", "_")


def _reader(csv_text: str):
    text = (csv_text or "").lstrip("\ufeff")
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    delimiter = ";" if first.count(";") > first.count(",") else ","
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _columns(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, name in enumerate(header):
        column = HEADER_ALIASES.get(_header_key(name))
        if column and column not in found:
            found[column] = index
    missing = [c for c in COLUMNS if c not in found]
    if missing:
        raise StatementError(_l(
            "The file has no valid header line. The first line must name the columns "
            "transaction_id,date,amount,content (or ma_giao_dich,ngay,so_tien,noi_dung)."
        ))
    return found


def _row_transaction(cells: list[str], columns: dict[str, int], account: PaymentAccount) -> BankTransaction:
    def cell(name: str) -> str:
        index = columns[name]
        return cells[index].strip() if index < len(cells) else ""

    txn_id = cell("transaction_id")
    if not txn_id:
        raise ValueError(_l("The transaction id is missing."))
    if len(txn_id) > 100:
        raise ValueError(_l("The transaction id is longer than 100 characters."))
    try:
        amount = parse_amount(cell("amount"))
    except ValueError:
        raise ValueError(_l("The amount %(value)s is not a whole number of đồng.", value=repr(cell("amount")))) from None
    if amount == 0:
        raise ValueError(_l("The amount is zero."))
    try:
        occurred_at = parse_date(cell("date"))
        if ":" not in cell("date"):  # a day without its time: on time only if the whole day was (lateness rule)
            occurred_at += timedelta(days=1, seconds=-1)
    except ValueError:
        raise ValueError(_l("The date %(value)s is not dd/mm/yyyy HH:MM or ISO 8601.", value=repr(cell("date")))) from None
    content = cells[columns["content"]] if columns["content"] < len(cells) else ""
    reference = cell("reference") if "reference" in columns else ""
    if len(reference) > 100:
        raise ValueError(_l("The reference is longer than 100 characters."))
    return BankTransaction(
        provider="statement", provider_txn_id=txn_id, amount=abs(amount), content=content.strip(),
        account_number=account.account_number, bank=None, occurred_at=occurred_at, reference=reference or None,
        raw={"line": {name: cell(name) for name in (*COLUMNS, *OPTIONAL_COLUMNS) if name in columns},
             "account_id": account.id},
        direction="in" if amount > 0 else "out", bank_bin=account.bank_bin, account_ids=(account.id,),
    )


class StatementImport:
    """One statement file being imported into ``account``, row by row, so a page can show its progress.

    Creating it reads the file once: the header (a file without a usable header raises StatementError before
    anything is recorded) and the rows, so ``total`` is known; ``run()`` records the rows, each through
    ``confirm_transfer`` (one unit of work per row, ``transactions.run``), and yields the number of rows done after each one; ``result`` holds
    the counts and the skipped rows."""

    def __init__(self, csv_text: str, account: PaymentAccount):
        self.account = account
        self.result = ImportResult()
        reader = _reader(csv_text)
        self._records: list[tuple[int, list[str]]] = []
        self._stopped: RowError | None = None  # where the CSV could no longer be read, or the row limit
        header = None
        try:
            for header in reader:
                if any(cell.strip() for cell in header):
                    break
            else:
                raise StatementError(_l("The file is empty."))
            self._columns = _columns(header)
            for cells in reader:
                if not any(cell.strip() for cell in cells):
                    continue
                if len(self._records) == MAX_ROWS:
                    self._stopped = RowError(reader.line_num, str(_l("Only the first %(n)d rows are imported.",
                                                                     n=MAX_ROWS)))
                    break
                self._records.append((reader.line_num, cells))
        except csv.Error as err:
            if header is None or not hasattr(self, "_columns"):
                raise StatementError(_l("The CSV cannot be read from here on: %(reason)s", reason=str(err))) from None
            self._stopped = RowError(reader.line_num, str(_l("The CSV cannot be read from here on: %(reason)s",
                                                             reason=str(err))))
        self.total = len(self._records)

    def run(self) -> Iterator[int]:
        counts, errors = Counter(), self.result.errors
        for rows, (line, cells) in enumerate(self._records, start=1):
            try:
                txn = _row_transaction(cells, self._columns, self.account)
                # One unit of work per row (retried after a deadlock): a long import keeps what it recorded
                # if it stops, and its progress shows rows that are really there.
                outcome = transactions.run(partial(confirm_transfer, txn))
            except ValueError as err:
                errors.append(RowError(line, str(err.args[0]) if err.args else str(err)))
            except DomainError as err:
                errors.append(RowError(line, str(err.message)))
            else:
                counts[ALREADY_RECORDED if outcome.duplicate else outcome.transfer.status] += 1
            self.result.counts = dict(counts)
            yield rows
        if self._stopped is not None:
            errors.append(self._stopped)


def import_statement(csv_text: str, account: PaymentAccount) -> ImportResult:
    """Import the statement of ``account`` at once; every valid row goes through confirm_transfer."""
    job = StatementImport(csv_text, account)
    for _done in job.run():
        pass
    return job.result
