"""The tenant-scoping hook memoises its per-statement decision (does it touch a tenant-owned table?) by the
statement's cache key (issue #17): the memoised answer must equal the computed one for every statement, and it must
not weaken isolation (tests/tenants/test_isolation*.py and test_scoping.py run with CHECK_DECISIONS on)."""

from __future__ import annotations

import pytest
from sqlalchemy import exists, func, select

from app.auth.models import Membership, User
from app.extensions import db
from tenants import scoping
from tenants.notices.models import Notice
from tenants.scoping import TenantRequired, tenant_context
from tests.conftest import login
from tests.test_no_500 import SAMPLE_VALUES


@pytest.fixture
def decisions(monkeypatch):
    """Every decision the hook takes, with the freshly computed answer beside it."""
    seen: list[tuple[str, bool, bool]] = []
    memoised = scoping._touches_scoped

    def recording(state):
        answer = memoised(state)
        seen.append((str(state.statement), answer, scoping._computes_touches_scoped(state)))
        return answer

    monkeypatch.setattr(scoping, "_touches_scoped", recording)
    return seen


def test_same_structure_other_values_shares_one_decision(app, make):
    a = make.tenant("xa-a")
    make.notice(a, "A1")
    scoping._DECISIONS.clear()
    with app.app_context(), tenant_context(a):
        db.session.scalars(select(Notice).where(Notice.title == "A1")).all()
        db.session.scalars(select(Notice).where(Notice.title == "other")).all()
        assert True in scoping._DECISIONS.values()
        entries = len(scoping._DECISIONS)
        db.session.scalars(select(Notice).where(Notice.title == "third")).all()
        assert len(scoping._DECISIONS) == entries  # answered from the memo


def test_a_memoised_unscoped_statement_never_answers_for_a_scoped_one(app, make):
    """The same shape over another table, or a tenant-owned table hidden in a subquery, is another key."""
    a = make.tenant("xa-a")
    make.notice(a, "A1")
    with app.app_context():
        scoping._DECISIONS.clear()
        db.session.scalar(select(func.count()).select_from(User))  # not tenant-owned: allowed without a tenant
        with pytest.raises(TenantRequired):
            db.session.scalar(select(func.count()).select_from(Notice))
        db.session.rollback()
        db.session.scalar(select(User.id).where(User.id == 1))
        with pytest.raises(TenantRequired):
            db.session.scalar(select(User.id).where(User.id == 1, exists().where(Notice.author_id == User.id)))
        db.session.rollback()
        # asked twice: the second answer comes from the memo and still refuses
        with pytest.raises(TenantRequired):
            db.session.scalar(select(User.id).where(User.id == 2, exists().where(Notice.author_id == User.id)))
        db.session.rollback()


def test_the_memo_is_bounded(app, make, monkeypatch):
    a = make.tenant("xa-a")
    monkeypatch.setattr(scoping, "DECISIONS_MAX", 2)
    scoping._DECISIONS.clear()
    with app.app_context(), tenant_context(a):
        db.session.scalars(select(Notice.id)).all()
        db.session.scalars(select(Notice.title)).all()
        db.session.scalars(select(Notice.body)).all()
        assert len(scoping._DECISIONS) <= 2


def test_a_wrong_memo_is_caught_when_checked(app, make, monkeypatch):
    """CHECK_DECISIONS (on for the test suite) compares each memoised answer with a fresh walk."""
    a = make.tenant("xa-a")
    monkeypatch.setattr(scoping, "CHECK_DECISIONS", True)
    with app.app_context(), tenant_context(a):
        statement = select(Notice.id)
        scoping._DECISIONS[statement._generate_cache_key().key] = False  # a corrupted entry
        with pytest.raises(scoping.DecisionMismatch):
            db.session.scalars(select(Notice.id)).all()
        db.session.rollback()
    scoping._DECISIONS.clear()


def _get_paths(app) -> list[str]:
    paths = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or "GET" not in rule.methods:
            continue
        values = {arg: SAMPLE_VALUES.get(arg, "x") for arg in rule.arguments}
        paths.append(rule.build(values, append_unknown=False)[1])
    return sorted(set(paths))


@pytest.mark.parametrize("who", [None, "admin@a.vn", "district@gialam.demo"])
def test_every_page_decision_equals_the_computed_one(app, client, make, decisions, who):
    """Every GET route of the application, anonymous, as a commune admin and as the district: each statement's
    memoised decision (asked twice, the second time from the memo) equals the walk of the statement."""
    a = make.tenant("xa-a", "A")
    make.tenant("xa-b", "B")
    make.user("admin@a.vn", "commune_admin", a)
    make.user("district@gialam.demo", "district_admin")
    make.notice(a, "Một")
    if who:
        login(client, who)
    for path in _get_paths(app) * 2:
        client.get(path)
    assert len(decisions) > 100
    wrong = [(sql, got) for sql, got, computed in decisions if got != computed]
    assert not wrong, wrong[:3]
    assert any(got for _sql, got, _c in decisions) and not all(got for _sql, got, _c in decisions)


def test_memberships_count_is_scoped_by_its_own_filter(app, make):
    """Membership is read before a tenant is known: its statements are not tenant-owned, memoised as such."""
    a = make.tenant("xa-a")
    make.user("admin@a.vn", "commune_admin", a)
    with app.app_context():
        for _ in range(2):
            assert db.session.scalar(select(func.count()).select_from(Membership)
                                     .where(Membership.tenant_id == a.id)) == 1
