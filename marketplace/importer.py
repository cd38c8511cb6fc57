"""CSV import of a vendor's listings: one row per product, Vietnamese headers or English ones, prices written the
Vietnamese way (``125.000`` or ``125.000 ₫``). Each row is checked and saved on its own (a savepoint): a bad row is
reported with its line number and imports nothing of itself; the good rows are saved together at the end.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from flask_babel import gettext as _, lazy_gettext as _l

from app.errors import DomainError, ValidationError
from app import transactions
from app.extensions import db
from app.text import fold
from marketplace import services

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 2000
PROGRESS_EVERY = 10

# Column names a vendor may use (folded: with or without marks, any case) -> the product field.
HEADERS = {
    "name": "name", "ten": "name", "ten san pham": "name",
    "category": "category", "nhom": "category", "nhom san pham": "category", "danh muc": "category",
    "price": "price", "gia": "price", "gia ban": "price",
    "unit": "unit", "don vi": "unit", "don vi tinh": "unit",
    "stock": "stock", "ton kho": "stock", "so luong": "stock",
    "description": "description", "mo ta": "description",
    "ocop_stars": "ocop_stars", "ocop": "ocop_stars", "sao ocop": "ocop_stars",
    "ocop_certificate": "ocop_certificate", "so chung nhan": "ocop_certificate", "chung nhan ocop": "ocop_certificate",
    "ocop_expires_on": "ocop_expires_on", "het han": "ocop_expires_on", "hieu luc den": "ocop_expires_on",
    "publish": "publish", "dang ban": "publish",
}
REQUIRED = ("name", "category", "price")
TEMPLATE_HEADER = ("Tên sản phẩm", "Nhóm sản phẩm", "Giá bán", "Đơn vị tính", "Tồn kho", "Mô tả", "Sao OCOP",
                   "Số chứng nhận", "Hiệu lực đến", "Đăng bán")


def read_csv(data: bytes) -> list[tuple[int, dict]]:
    """(line number, fields) of each data row; ValidationError when the file as a whole cannot be read."""
    if not data:
        raise ValidationError(_l("Choose a CSV file."), field="file")
    if len(data) > MAX_BYTES:
        raise ValidationError(_l("The file is too large (2 MB at most)."), field="file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(_l("Save the file as CSV UTF-8 (Excel: File › Save As › CSV UTF-8)."),
                              field="file") from None
    if "\x00" in text:
        raise ValidationError(_l("This is not a CSV file."), field="file")
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = next(reader)
    except StopIteration:
        raise ValidationError(_l("The file is empty."), field="file") from None
    except csv.Error:
        raise ValidationError(_l("This is not a CSV file."), field="file") from None
    columns = [HEADERS.get(fold(name).replace("_", " ").strip(), HEADERS.get(fold(name).strip())) for name in header]
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise ValidationError(_l("The first line must name the columns; missing: %(names)s.",
                                 names=", ".join(missing)), field="file")
    rows = []
    try:
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            if len(rows) >= MAX_ROWS:
                raise ValidationError(_l("At most %(n)s products per file.", n=MAX_ROWS), field="file")
            fields = {column: value for column, value in zip(columns, record, strict=False) if column}
            rows.append((reader.line_num, fields))
    except csv.Error:
        raise ValidationError(_l("This is not a CSV file."), field="file") from None
    if not rows:
        raise ValidationError(_l("The file has no products."), field="file")
    return rows


def import_rows(vendor_id: int, rows: list[tuple[int, dict]]) -> Iterator[dict]:
    """Save each good row; yield progress events, then the report ``{"done": True, "imported", "errors"}``."""
    taken = services._taken_slugs()
    imported, errors = 0, []
    for index, (line, fields) in enumerate(rows, start=1):
        try:
            with transactions.savepoint():
                # drafts: each gets its photo on its page, then is published (services.PHOTO_FIRST)
                services.create_product(vendor_id, fields, taken=taken)
            imported += 1
        except DomainError as err:
            errors.append({"line": line, "message": str(err.message)})
        if index % PROGRESS_EVERY == 0 or index == len(rows):
            yield {"progress": index, "total": len(rows)}
    # The import commits its good rows itself (a streamed import, docs/decisions.md): streamed, it runs after the
    # view has returned, when the request's unit of work is over; read at once, a report with bad lines answers 400,
    # and the boundary would roll the good rows back with it.
    db.session.commit()
    yield {"done": True, "imported": imported, "errors": errors, "total": len(rows),
           "summary": _("%(imported)s of %(total)s products imported.", imported=imported, total=len(rows))}
