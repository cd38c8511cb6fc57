"""Tamper evidence: each commune's entries form a chain of digests; `flask audit verify` recomputes it and exits
non-zero, naming the entry, when a row was edited, removed or added outside the application."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app import transactions
from app.audit import chain
from app.audit.models import GENESIS
from app.extensions import db
from tenants.notices import services as notices
from tenants.scoping import all_tenants, tenant_context
from tests.audit.helpers import entries


def as_owner(database, sql: str, **params) -> None:
    """Change the trail the way only the database owner could (a superuser on PostgreSQL, the trigger set aside)."""
    with database["owner_engine"].begin() as conn:
        if database["kind"] == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(sql), params)


@pytest.fixture
def trail(app, make):
    """Two communes with a few entries each, and a district entry."""
    a, b = make.tenant("xa-a", "Xã A"), make.tenant("xa-b", "Xã B")
    for tenant, titles in ((a, ("A1", "A2", "A3")), (b, ("B1",))):
        with app.app_context(), tenant_context(tenant):
            for title in titles:
                transactions.run(lambda title=title: notices.create(None, title, ""))
    make.user("district@gialam.demo", "district_admin")
    return a, b


def test_entries_are_numbered_and_each_carries_the_digest_of_the_one_before(app, trail):
    a, _b = trail
    chain_a = entries(app, tenant_id=a.id)
    assert [e["seq"] for e in chain_a] == [1, 2, 3, 4]
    assert chain_a[0]["prev_digest"] == GENESIS
    assert all(later["prev_digest"] == earlier["digest"] for earlier, later in zip(chain_a, chain_a[1:], strict=False))
    assert len({e["digest"] for e in chain_a}) == 4


def test_an_untouched_trail_verifies(app, runner, trail):
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "Every chain verifies" in result.output and "xa-a" in result.output and "district" in result.output


def test_an_edited_entry_breaks_the_chain_and_verify_names_it(app, runner, database, trail):
    a, _b = trail
    second = entries(app, tenant_id=a.id)[1]
    as_owner(database, "UPDATE audit_entries SET actor_label = 'someone else' WHERE id = :id", id=second["id"])
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "BROKEN xa-a" in result.output and "entry no. 2" in result.output and "edited" in result.output
    assert "xa-b" in result.output  # the other chains are still checked and reported


def test_an_edited_change_value_breaks_the_chain(app, runner, database, trail):
    a, _b = trail
    third = entries(app, tenant_id=a.id)[2]
    as_owner(database, "UPDATE audit_entries SET changes = :c WHERE id = :id",
             c='{"title": [null, "A9"]}', id=third["id"])
    result = runner.invoke(args=["audit", "verify", "--commune", "xa-a"])
    assert result.exit_code == 1 and "entry no. 3" in result.output


def test_a_deleted_entry_breaks_the_chain(app, runner, database, trail):
    a, _b = trail
    second = entries(app, tenant_id=a.id)[1]
    as_owner(database, "DELETE FROM audit_entries WHERE id = :id", id=second["id"])
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "entry no. 2 is missing" in result.output


def test_removing_the_last_entries_is_seen_against_the_head(app, runner, database, trail):
    a, _b = trail
    last = entries(app, tenant_id=a.id)[-1]
    as_owner(database, "DELETE FROM audit_entries WHERE id = :id", id=last["id"])
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "the last ones removed" in result.output


def test_a_forged_entry_with_a_recomputed_digest_still_breaks_the_next_link(app, database, trail):
    """Rewriting one entry and its own digest is not enough: the next entry carries the old digest."""
    a, _b = trail
    chain_a = entries(app, tenant_id=a.id)
    forged = dict(chain_a[1], actor_label="someone else")
    digest = chain.digest_of(seq=forged["seq"], prev=forged["prev_digest"], at=forged["at"],
                             actor_kind=forged["actor_kind"], actor_id=forged["actor_id"],
                             actor_label=forged["actor_label"], address=forged["address"], action=forged["action"],
                             table_name=forged["table_name"], record_id=forged["record_id"],
                             changes=forged["changes"])
    as_owner(database, "UPDATE audit_entries SET actor_label = 'someone else', digest = :d WHERE id = :id",
             d=digest, id=forged["id"])
    with app.app_context(), all_tenants():
        _counts, breaks = chain.verify(db.session, [a.id])
    assert [(b.seq, b.reason) for b in breaks] == [(3, "it does not carry the digest of the entry before it")]


def test_verify_of_an_unknown_commune_is_refused(runner, trail):
    result = runner.invoke(args=["audit", "verify", "--commune", "nowhere"])
    assert result.exit_code != 0 and "No commune" in result.output
