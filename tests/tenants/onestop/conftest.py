"""Fixtures of the one-stop tests: a commune with an officer and a few procedures; helpers to make dossiers."""

from __future__ import annotations

from datetime import datetime

import pytest

from app.extensions import db
from app.formatting import VN_TZ
from tenants.onestop import services, settings
from tenants.scoping import tenant_context

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def vn(*args) -> datetime:
    """A moment in Hà Nội time: vn(2026, 3, 2, 9, 0)."""
    return datetime(*args, tzinfo=VN_TZ)


@pytest.fixture
def commune(make):
    return make.tenant("bat-trang", "Bát Tràng")


@pytest.fixture
def officer(make, commune):
    return make.user("officer@battrang.vn", "officer", commune, name="Trần Thị Bình")


@pytest.fixture
def ctx(app, commune):
    """An app context with the commune active; the test is the transaction boundary."""
    with app.app_context(), tenant_context(commune):
        yield
        db.session.rollback()


def procedure(**values):
    defaults = dict(name="Cấp bản sao trích lục khai tử", sector="Hộ tịch", time_unit="days", time_amount=3,
                    same_day=False, fee=8_000, required_documents="Tờ khai", online=True)
    return settings.save_procedure(None, **{**defaults, **values})


def procedure_id(app, commune, **values) -> int:
    """A procedure of ``commune``, committed: its id."""
    with app.app_context(), tenant_context(commune):
        proc_id = procedure(**values).id
        db.session.commit()
        return proc_id


APPLICANT = dict(name="Nguyễn Văn An", id_number="001090012345", phone="0912345678", address="Thôn 1, Bát Tràng",
                 email="an@example.vn")


def counter_dossier(officer, proc, now, **applicant):
    return services.intake(proc.id, services.clean_applicant(**{**APPLICANT, **applicant}), channel="counter",
                           officer=db.session.merge(officer), now=now)


def online_dossier(proc, now, **applicant):
    return services.intake(proc.id, services.clean_applicant(**{**APPLICANT, **applicant}), channel="online", now=now)
