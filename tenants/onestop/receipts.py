"""The electronic fee receipt (biên lai thu phí, lệ phí) of a paid dossier, by VietQR or in cash: issued in the same
transaction as the payment, numbered in the commune's series for the year (gapless and unique: the counter row stays
locked until the transaction ends), with the fields of Decree 123/2020/NĐ-CP art. 32 and Circular 78/2021/TT-BTC,
and a token for the public verification page its QR opens. docs/decisions.md, "Online services (#23)"."""

from __future__ import annotations

import secrets
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.errors import NotFound
from app.extensions import db
from tenants.models import Tenant
from tenants.onestop import worktime
from tenants.onestop.models import Dossier, FeeReceipt, FeeReceiptCounter
from tenants.scoping import all_tenants, current_tenant_id

FORM_NUMBER = "01BLP0-001"  # ký hiệu mẫu số: receipt (BL), of fees (P), electronic, form 001
METHOD_LABELS = {"vietqr": "Chuyển khoản (VietQR)", "cash": "Tiền mặt"}


def series_for(moment: datetime) -> str:
    """The receipt symbol (ký hiệu biên lai): the year of issue and E for an electronic receipt, e.g. ``BL-26E``."""
    return f"BL-{worktime.local(moment):%y}E"


def next_number(tenant_id: int, series: str) -> int:
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(FeeReceiptCounter).values(tenant_id=tenant_id, series=series, last=1)
    statement = statement.on_conflict_do_update(
        index_elements=["tenant_id", "series"], set_={"last": FeeReceiptCounter.last + 1}
    ).returning(FeeReceiptCounter.last)
    with all_tenants():  # an upsert is a Core INSERT: it names its tenant itself
        return db.session.execute(statement).scalar_one()


def issue(dossier: Dossier, method: str, reference: str, now: datetime) -> FeeReceipt | None:
    """The receipt of the dossier's fee (none for a free procedure; never two for one dossier). Flushes only."""
    if dossier.fee_amount <= 0 or receipt_of(dossier.id) is not None:
        return None
    tenant_id = current_tenant_id()
    with all_tenants():
        tenant = db.session.get(Tenant, tenant_id)
    series = series_for(now)
    receipt = FeeReceipt(
        dossier_id=dossier.id, form_number=FORM_NUMBER, series=series, number=next_number(tenant_id, series),
        issuer_name=f"UBND {tenant.display_name}"[:200], issuer_tax_code=tenant.tax_code or "",
        payer_name=dossier.applicant_name, payer_address=dossier.applicant_address,
        payer_id_number=dossier.applicant_id_number,
        fee_name=f"Lệ phí: {dossier.procedure.name} (hồ sơ {dossier.code})"[:300], amount=dossier.fee_amount,
        method=method, payment_reference=(reference or "")[:64], paid_at=now, issued_at=now,
        verify_token=secrets.token_urlsafe(18))
    db.session.add(receipt)
    db.session.flush()
    return receipt


def receipt_of(dossier_id: int) -> FeeReceipt | None:
    return db.session.scalar(select(FeeReceipt).where(FeeReceipt.dossier_id == dossier_id))


def by_token(token: str) -> FeeReceipt:
    """The receipt a verification QR names, in the active commune."""
    found = db.session.scalar(select(FeeReceipt).where(FeeReceipt.verify_token == (token or "")[:32])) \
        if token else None
    if found is None:
        raise NotFound(_l("No receipt has this verification code."))
    return found


def number_label(receipt: FeeReceipt) -> str:
    return f"{receipt.number:07d}"


def masked_name(receipt: FeeReceipt) -> str:
    """The payer's name as the public verification page shows it: initials and the given name (Nguyễn Văn An ->
    N. V. An), enough to recognise one's own receipt, not to learn a stranger's name."""
    words = receipt.payer_name.split()
    return " ".join([f"{w[0]}." for w in words[:-1]] + words[-1:])
