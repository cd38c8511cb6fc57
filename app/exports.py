"""CSV downloads: every export goes through ``csv_response``.

- UTF-8 with a byte-order mark, so Excel (what commune offices open CSVs with) shows Vietnamese correctly.
- A cell that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
  return) is prefixed with an apostrophe: a vendor's product name or a citizen's note can never become a formula
  in an officer's spreadsheet (CSV injection). Numbers stay numbers: only text cells are escaped.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from urllib.parse import quote

from flask import Response, has_app_context

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> object:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_text(header: Sequence[str], rows: Iterable[Sequence]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return buffer.getvalue()


class _Counted:
    def __init__(self, rows: Iterable[Sequence]):
        self.rows, self.count = rows, 0

    def __iter__(self):
        for row in self.rows:
            self.count += 1
            yield row


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence]) -> Response:
    """The download; recorded in the audit trail (who took which file, how many rows), since most carry data of
    people or money (docs/operations.md)."""
    counted = _Counted(rows)
    body = "\ufeff" + csv_text(header, counted)
    if has_app_context():
        from app import audit

        audit.record("csv_export", details={"file": filename, "rows": counted.count})
    ascii_name = filename.encode("ascii", "ignore").decode() or "export.csv"
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    return Response(body, mimetype="text/csv", headers={"Content-Disposition": disposition,
                                                        "Cache-Control": "no-store"})
