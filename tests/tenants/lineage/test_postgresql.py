"""The plan runs on PostgreSQL under row-level security, as the application role (not a superuser, no BYPASSRLS):
the rows move and each commune sees exactly its own afterwards, at the database level too."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select, text

from app import transactions
from app.extensions import db
from tenants.lineage import apply_plan, parse_plan
from tenants.notices.models import Notice
from tenants.scoping import tenant_context
from tests.payments.helpers import make_account, make_intent

pytestmark = pytest.mark.usefixtures("postgres")


def test_the_plan_applies_under_row_level_security_as_the_application_role(app, make):
    dong_du, bat_trang = make.tenant("dong-du"), make.tenant("bat-trang")
    make.notice(dong_du, "Lịch tiếp dân Đông Dư")
    make.notice(bat_trang, "Lịch tiếp dân Bát Tràng")
    make_intent(app, make_account(app, dong_du, "0011001234567"), 50_000)
    plan = {"key": "pg", "effective_date": "2025-01-01", "legal_basis": "thử",
            "lines": [{"predecessor": "dong-du", "successor": "bat-trang"}]}
    with app.app_context():
        role = db.session.execute(text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")).one()
        assert tuple(role) == (False, False)
        report = transactions.run(lambda: apply_plan(parse_plan(json.dumps(plan).encode())))
        assert report.moved[("dong-du", "bat-trang")]["notices"] == 1
        assert report.moved[("dong-du", "bat-trang")]["payment_intents"] == 1
        with tenant_context(bat_trang):
            assert sorted(db.session.scalars(select(Notice.title))) == ["Lịch tiếp dân Bát Tràng",
                                                                       "Lịch tiếp dân Đông Dư"]
            # The policy itself, not only the ORM's scoping: a raw count sees the successor's rows only.
            assert db.session.execute(text("SELECT count(*) FROM notices")).scalar() == 2
            assert db.session.execute(text("SELECT count(*) FROM payment_intents")).scalar() == 1
        db.session.commit()
        with tenant_context(dong_du):
            assert db.session.scalar(select(func.count()).select_from(Notice)) == 0
            assert db.session.execute(text("SELECT count(*) FROM notices")).scalar() == 0
        db.session.commit()
