"""The one scoping mechanism (tenants/scoping.py): every ORM read and write of a tenant-owned model is confined to
the active tenant, and with no active tenant it fails closed."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.orm import aliased

from app.auth.models import User
from app.extensions import db
from tenants.notices.models import Notice
from tenants.scoping import TenantMismatch, TenantRequired, TenantScoped, all_tenants, tenant_context


@pytest.fixture
def two_communes(make):
    """Commune A with two notices, commune B with three."""
    a, b = make.tenant("xa-a"), make.tenant("xa-b")
    notices = {
        "a": [make.notice(a, "A1"), make.notice(a, "A2", published=False)],
        "b": [make.notice(b, "B1"), make.notice(b, "B2"), make.notice(b, "B3", published=False)],
    }
    return a, b, notices


def titles(statement=None) -> list[str]:
    return sorted(db.session.scalars(statement if statement is not None else select(Notice.title)))


# --- fail closed -----------------------------------------------------------------------------------------------

def test_select_of_tenant_owned_model_without_active_tenant_raises(app, two_communes):
    with app.app_context():
        with pytest.raises(TenantRequired):
            db.session.scalars(select(Notice)).all()


def test_count_without_active_tenant_raises_instead_of_counting_everything(app, two_communes):
    with app.app_context():
        with pytest.raises(TenantRequired):
            db.session.scalar(select(func.count()).select_from(Notice))


def test_join_to_tenant_owned_model_without_active_tenant_raises(app, two_communes):
    with app.app_context():
        with pytest.raises(TenantRequired):
            db.session.execute(select(User.id).join(Notice, Notice.author_id == User.id)).all()


def test_bulk_update_and_delete_without_active_tenant_raise(app, two_communes):
    with app.app_context():
        with pytest.raises(TenantRequired):
            db.session.execute(update(Notice).values(title="x"))
        db.session.rollback()
        with pytest.raises(TenantRequired):
            db.session.execute(delete(Notice))
        db.session.rollback()


def test_adding_a_row_without_active_tenant_raises(app, two_communes):
    with app.app_context():
        db.session.add(Notice(title="orphan"))
        with pytest.raises(TenantRequired):
            db.session.flush()
        db.session.rollback()


def test_global_tables_need_no_tenant(app, two_communes):
    from tenants.models import Tenant

    with app.app_context():
        assert len(db.session.scalars(select(Tenant)).all()) == 2


# --- reads see only the active tenant --------------------------------------------------------------------------

def test_select_in_tenant_context_sees_only_that_tenants_rows(app, two_communes):
    a, b, _ = two_communes
    with app.app_context():
        with tenant_context(a):
            assert titles() == ["A1", "A2"]
            assert {n.tenant_id for n in db.session.scalars(select(Notice))} == {a.id}
        with tenant_context(b):
            assert titles() == ["B1", "B2", "B3"]


def test_counts_in_tenant_context_count_only_that_tenants_rows(app, two_communes):
    a, b, _ = two_communes
    with app.app_context(), tenant_context(a):
        assert db.session.scalar(select(func.count()).select_from(Notice)) == 2
        assert db.session.scalar(select(func.count(Notice.id))) == 2
        assert db.session.scalar(
            select(func.count()).select_from(Notice).where(Notice.published.is_(True))
        ) == 1


def test_filters_on_another_tenants_values_find_nothing(app, two_communes):
    a, b, notices = two_communes
    b1 = notices["b"][0]
    with app.app_context(), tenant_context(a):
        assert db.session.scalar(select(Notice).where(Notice.id == b1.id)) is None
        assert db.session.get(Notice, b1.id) is None
        assert titles(select(Notice.title).where(Notice.tenant_id == b.id)) == []


def test_subqueries_exists_and_aliases_are_scoped_too(app, make, two_communes):
    a, b, notices = two_communes
    author = make.user("author@example.vn")
    with app.app_context():
        with tenant_context(b):
            db.session.execute(update(Notice).values(author_id=author.id))
            db.session.commit()
        with tenant_context(a):
            # B's notices all have an author; seen from A, nobody wrote anything
            authors = select(Notice.author_id).where(Notice.author_id.is_not(None))
            assert db.session.scalars(select(User.email).where(User.id.in_(authors))).all() == []
            assert db.session.scalar(select(select(Notice.id).where(Notice.title == "B1").exists())) is False
            assert db.session.scalar(select(select(Notice.id).where(Notice.title == "A1").exists())) is True
            other = aliased(Notice)
            assert sorted(db.session.scalars(select(other.title))) == ["A1", "A2"]
            joined = select(User.email).join(Notice, Notice.author_id == User.id)
            assert db.session.scalars(joined).all() == []


def test_core_statement_on_tenant_owned_table_is_refused_not_unscoped(app, two_communes):
    a, _, _ = two_communes
    with app.app_context(), tenant_context(a):
        with pytest.raises(TenantRequired):
            db.session.scalar(select(exists().where(Notice.__table__.c.title == "B1")))
        db.session.rollback()
        with pytest.raises(TenantRequired):
            db.session.scalars(select(Notice.__table__.c.title)).all()


def test_writes_with_no_active_tenant_fail_closed_like_reads(app, two_communes):
    """Naming the tenant on the row is not enough: with no tenant active (and no all_tenants()), nothing is written,
    neither a new row nor a change to one kept from an earlier tenant context."""
    a, b, _ = two_communes
    with app.app_context():
        db.session.add(Notice(title="smuggled", body="", published=True, tenant_id=b.id))
        with pytest.raises(TenantRequired):
            db.session.flush()
        db.session.rollback()
        with tenant_context(a):
            kept = db.session.scalars(select(Notice).where(Notice.title == "A1")).one()
        kept.title = "changed outside any tenant"
        with pytest.raises(TenantRequired):
            db.session.flush()
        db.session.rollback()
        db.session.delete(kept)
        with pytest.raises(TenantRequired):
            db.session.flush()
        db.session.rollback()
    with app.app_context(), all_tenants():
        assert titles() == ["A1", "A2", "B1", "B2", "B3"]


def test_all_tenants_sees_every_row(app, two_communes):
    with app.app_context(), all_tenants():
        assert titles() == ["A1", "A2", "B1", "B2", "B3"]
        assert db.session.scalar(select(func.count()).select_from(Notice)) == 5


# --- writes ----------------------------------------------------------------------------------------------------

def test_bulk_update_in_tenant_context_touches_only_that_tenants_rows(app, two_communes):
    a, _, _ = two_communes
    with app.app_context():
        with tenant_context(a):
            result = db.session.execute(update(Notice).values(body="changed"))
            assert result.rowcount == 2
            db.session.commit()
        with all_tenants():
            bodies = dict(db.session.execute(select(Notice.title, Notice.body)).all())
    assert bodies == {"A1": "changed", "A2": "changed", "B1": "", "B2": "", "B3": ""}


def test_bulk_delete_in_tenant_context_deletes_only_that_tenants_rows(app, two_communes):
    a, _, _ = two_communes
    with app.app_context():
        with tenant_context(a):
            assert db.session.execute(delete(Notice)).rowcount == 2
            db.session.commit()
        with all_tenants():
            assert titles() == ["B1", "B2", "B3"]


def test_bulk_update_aimed_at_another_tenants_row_changes_nothing(app, two_communes):
    a, _, notices = two_communes
    b1 = notices["b"][0]
    with app.app_context():
        with tenant_context(a):
            assert db.session.execute(update(Notice).where(Notice.id == b1.id).values(title="hacked")).rowcount == 0
            db.session.commit()
        with all_tenants():
            assert db.session.get(Notice, b1.id).title == "B1"


def test_new_rows_are_stamped_with_the_active_tenant(app, two_communes):
    a, _, _ = two_communes
    with app.app_context():
        with tenant_context(a):
            notice = Notice(title="new")
            db.session.add(notice)
            db.session.commit()
            assert notice.tenant_id == a.id
        with tenant_context(a):
            assert "new" in titles()


def test_adding_a_row_of_another_tenant_raises_tenant_mismatch(app, two_communes):
    a, b, _ = two_communes
    with app.app_context():
        with tenant_context(a):
            db.session.add(Notice(title="smuggled", tenant_id=b.id))
            with pytest.raises(TenantMismatch):
                db.session.flush()
            db.session.rollback()
        with tenant_context(b):
            assert "smuggled" not in titles()


def test_changing_the_tenant_of_a_row_raises(app, two_communes):
    a, b, notices = two_communes
    with app.app_context():
        with tenant_context(a):
            notice = db.session.scalar(select(Notice).where(Notice.title == "A1"))
            notice.tenant_id = b.id
            with pytest.raises(TenantMismatch):
                db.session.flush()
            db.session.rollback()
        with all_tenants():
            assert db.session.scalar(select(Notice.tenant_id).where(Notice.title == "A1")) == a.id


def test_changing_the_tenant_of_a_row_raises_even_across_tenants(app, two_communes):
    a, b, _ = two_communes
    with app.app_context(), all_tenants():
        notice = db.session.scalar(select(Notice).where(Notice.title == "A1"))
        notice.tenant_id = b.id
        with pytest.raises(TenantMismatch):
            db.session.flush()
        db.session.rollback()


def test_bulk_update_cannot_move_rows_to_another_tenant(app, two_communes):
    a, b, _ = two_communes
    with app.app_context():
        with tenant_context(a):
            with pytest.raises(TenantMismatch):
                db.session.execute(update(Notice).values(tenant_id=b.id))
            db.session.rollback()
        with all_tenants():
            assert db.session.scalar(select(func.count()).select_from(Notice).where(Notice.tenant_id == a.id)) == 2


def test_tenant_context_is_restored_after_the_block(app, two_communes):
    from tenants.scoping import current_tenant_id

    a, b, _ = two_communes
    assert current_tenant_id() is None
    with tenant_context(a):
        with tenant_context(b):
            assert current_tenant_id() == b.id
        assert current_tenant_id() == a.id
    assert current_tenant_id() is None


def test_every_tenant_owned_model_has_a_non_null_tenant_id_leading_an_index(app):
    scoped = [m.class_ for m in db.Model.registry.mappers if issubclass(m.class_, TenantScoped)]
    assert Notice in scoped
    for model in scoped:
        table = model.__table__
        assert table.c.tenant_id.nullable is False, table.name
        leading = [index.columns.keys()[0] for index in table.indexes] + table.primary_key.columns.keys()[:1]
        assert "tenant_id" in leading, table.name  # an index, or the primary key (catalogue_counts)


def test_a_bulk_insert_of_tenant_owned_rows_is_refused(app, make):
    """INSERT statements skip the stamping of session.add(): they must not slip a row into another commune."""
    from sqlalchemy import insert

    a, b = make.tenant("xa-a"), make.tenant("xa-b")
    with app.app_context(), tenant_context(a):
        with pytest.raises(TenantMismatch):
            db.session.execute(insert(Notice), [{"title": "x", "body": "", "published": True, "tenant_id": b.id}])
        db.session.rollback()
    with app.app_context(), all_tenants():
        assert db.session.scalar(select(func.count()).select_from(Notice)) == 0


def test_session_get_never_hands_back_another_tenants_row_from_the_identity_map(app, make):
    """Session.get may answer from the identity map without a query; the session class applies the same rule."""
    a, b = make.tenant("xa-a"), make.tenant("xa-b")
    notice_b = make.notice(b, "Thông báo của xã B")
    with app.app_context():
        with all_tenants():
            loaded = db.session.get(Notice, notice_b.id)  # now in the identity map
            assert loaded is not None
        with tenant_context(a):
            assert db.session.get(Notice, notice_b.id) is None
        with tenant_context(b):
            assert db.session.get(Notice, notice_b.id) is loaded
        with pytest.raises(TenantRequired):
            db.session.get(Notice, notice_b.id)


def test_every_table_with_a_tenant_id_is_tenant_scoped_or_listed_with_its_reason(app):
    """A new tenant-owned table that forgets TenantScoped fails here (on SQLite too); its RLS is checked on
    PostgreSQL by tests/tenants/test_rls.py for every TenantScoped table and OTHER_RLS_TABLES."""
    from tests.tenants.test_rls import NOT_TENANT_SCOPED, OTHER_RLS_TABLES, tenant_owned_tables

    with_tenant_id = {table.name for table in db.metadata.sorted_tables if "tenant_id" in table.c}
    assert with_tenant_id - set(tenant_owned_tables()) - set(NOT_TENANT_SCOPED) == set()
    assert set(NOT_TENANT_SCOPED) <= with_tenant_id  # the allowlist names only real exceptions
    assert set(OTHER_RLS_TABLES) <= set(NOT_TENANT_SCOPED)
