"""The trail records every change of an audited row exactly once, in the same transaction, and nothing else:
what rolls back leaves no entry; secrets and personal data are recorded as changed, never with their values."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from app import audit, transactions
from app.audit import MASK
from app.auth.models import Membership, User
from app.extensions import db
from tenants.models import Tenant
from tenants.notices import services as notices
from tenants.notices.models import Notice
from tenants.scoping import tenant_context
from tests.audit.helpers import entries, row_entries
from tests.conftest import csrf_token, login


def test_a_created_row_is_one_entry_with_its_values(app, make):
    tenant = make.tenant("bat-trang")
    with app.app_context(), tenant_context(tenant):
        notice = transactions.run(lambda: notices.create(None, "Lịch tiếp dân", "Thứ Hai"))
    [entry] = row_entries(app, "notices")
    assert entry["action"] == "insert" and entry["tenant_id"] == tenant.id
    assert entry["record_id"] == str(notice.id)
    assert entry["changes"]["title"] == [None, "Lịch tiếp dân"]
    assert entry["changes"]["body"] == [None, "Thứ Hai"]
    assert entry["actor_kind"] == "system"
    assert entry["seq"] == 2  # the commune's chain begins with the commune's own creation


def test_an_update_records_only_the_changed_columns_before_and_after(app, make):
    tenant = make.tenant("bat-trang")
    notice = make.notice(tenant, "Cũ", body="Nội dung")
    with app.app_context(), tenant_context(tenant):
        transactions.run(lambda: notices.update(notice.id, "Mới", "Nội dung", True))
    [entry] = [e for e in row_entries(app, "notices") if e["action"] == "update"]
    assert entry["changes"] == {"title": ["Cũ", "Mới"]}


def test_a_delete_records_the_row_as_it_was(app, make):
    tenant = make.tenant("bat-trang")
    notice = make.notice(tenant, "Sẽ xoá")
    with app.app_context(), tenant_context(tenant):
        transactions.run(lambda: notices.delete(notice.id))
    [entry] = [e for e in row_entries(app, "notices") if e["action"] == "delete"]
    assert entry["changes"]["title"] == ["Sẽ xoá", None] and entry["record_id"] == str(notice.id)


def test_a_transaction_that_rolls_back_leaves_no_entry(app, make):
    tenant = make.tenant("bat-trang")
    before = entries(app)

    def fails():
        notices.create(None, "Không được lưu", "")
        audit.record("download", table="onestop_documents", record_id=1)
        raise RuntimeError("the rule said no")

    with app.app_context(), tenant_context(tenant):
        with pytest.raises(RuntimeError):
            transactions.run(fails)
        assert db.session.scalars(select(Notice)).all() == []
    assert entries(app) == before


def test_a_request_answered_400_leaves_no_entry(app, client, make):
    tenant = make.tenant("bat-trang")
    make.user("admin@bt.vn", "commune_admin", tenant)
    login(client, "admin@bt.vn")
    before = len(entries(app))
    token = csrf_token(client, f"/c/{tenant.slug}/notices/new")
    response = client.post(f"/c/{tenant.slug}/notices/new", data={"title": "", "body": "x", "csrf_token": token})
    assert response.status_code == 400
    assert len(entries(app)) == before  # the sign-in only


def test_many_flushes_of_one_row_in_one_transaction_are_one_entry(app, make):
    tenant = make.tenant("bat-trang")

    def work():
        notice = notices.create(None, "Một", "")
        notices.update(notice.id, "Hai", "", True)
        notices.update(notice.id, "Ba", "x", False)
        return notice.id

    with app.app_context(), tenant_context(tenant):
        notice_id = transactions.run(work)
    [entry] = row_entries(app, "notices")
    assert entry["action"] == "insert" and entry["record_id"] == str(notice_id)
    assert entry["changes"]["title"] == [None, "Ba"] and entry["changes"]["published"] == [None, False]


def test_a_row_added_and_removed_in_one_transaction_leaves_nothing(app, make):
    tenant = make.tenant("bat-trang")

    def work():
        notices.delete(notices.create(None, "Thoáng qua", "").id)

    with app.app_context(), tenant_context(tenant):
        transactions.run(work)
    assert row_entries(app, "notices") == []


def test_what_a_rolled_back_savepoint_changed_is_forgotten(app, make):
    tenant = make.tenant("bat-trang")

    def work():
        notices.create(None, "Giữ lại", "")
        try:
            with db.session.begin_nested():
                notices.create(None, "Bỏ đi", "")
                audit.record("download", table="onestop_documents", record_id=7)
                raise ValueError
        except ValueError:
            pass
        with db.session.begin_nested():
            notices.create(None, "Cũng giữ", "")

    with app.app_context(), tenant_context(tenant):
        transactions.run(work)
    titles = [e["changes"]["title"][1] for e in row_entries(app, "notices")]
    assert titles == ["Giữ lại", "Cũng giữ"]
    assert entries(app, action="download") == []


def test_secrets_and_personal_data_are_recorded_as_changed_without_their_values(app, make):
    user = make.user("officer@bt.vn")
    with app.app_context():
        def work():
            row = db.session.get(User, user.id)
            row.password_hash = "argon2-new-hash"
            row.phone = "0912345678"
            row.name = "Nguyễn Văn An"
        transactions.run(work)
    [entry] = [e for e in row_entries(app, "users") if e["action"] == "update"]
    assert entry["changes"]["password_hash"] == [MASK, MASK]
    assert entry["changes"]["phone"] == [None, MASK]
    assert entry["changes"]["name"] == ["officer", "Nguyễn Văn An"]
    created = [e for e in row_entries(app, "users") if e["action"] == "insert"][0]
    assert created["changes"]["password_hash"] == [None, MASK]
    assert "argon2" not in str(entries(app))


def test_bookkeeping_columns_alone_make_no_entry(app, make):
    from app.auth.services import end_sessions

    user = make.user("officer@bt.vn")
    before = len(entries(app))
    with app.app_context():
        def work():
            row = db.session.get(User, user.id)
            row.last_login_at = row.created_at
            end_sessions(row)  # a bulk UPDATE of session_version only
        transactions.run(work)
    assert len(entries(app)) == before


def test_a_bulk_update_of_an_audited_table_records_each_row_it_changed(app, make):
    tenant = make.tenant("bat-trang")
    other = make.tenant("kieu-ky")
    with app.app_context():
        transactions.run(lambda: db.session.execute(
            update(Tenant).where(Tenant.id.in_([tenant.id, other.id])).values(status="inactive")))
    changed = [e for e in row_entries(app, "tenants") if e["action"] == "update"]
    assert sorted((e["tenant_id"], e["changes"]["status"][1]) for e in changed) == [
        (tenant.id, "inactive"), (other.id, "inactive")]
    assert all(e["changes"] == {"status": ["active", "inactive"]} for e in changed)


def test_each_commune_has_its_own_chain_and_rows_without_one_follow_the_page(app, make):
    a, b = make.tenant("xa-a"), make.tenant("xa-b")
    make.notice(a, "A1")
    make.notice(b, "B1")
    make.notice(a, "A2")
    user = make.user("district@gialam.demo", "district_admin")
    by_chain = {}
    for e in entries(app):
        by_chain.setdefault(e["tenant_id"], []).append(e["seq"])
    assert by_chain[a.id] == [1, 2, 3] and by_chain[b.id] == [1, 2]  # the commune itself, then its notices
    district = [e for e in entries(app, tenant_id=None)]
    assert {e["table_name"] for e in district} == {"users", "memberships"}
    assert [e["record_id"] for e in district if e["table_name"] == "users"] == [str(user.id)]
    with app.app_context(), tenant_context(a):
        def rename():
            db.session.get(User, user.id).name = "Phòng Nội vụ"
        transactions.run(rename)  # changed from commune A's pages: A's trail tells it
    [renamed] = [e for e in row_entries(app, "users") if e["action"] == "update"]
    assert renamed["tenant_id"] == a.id


def test_membership_of_a_commune_goes_to_that_communes_trail(app, make):
    tenant = make.tenant("bat-trang")
    make.user("officer@bt.vn", "officer", tenant)
    [membership] = row_entries(app, "memberships")
    assert membership["tenant_id"] == tenant.id and membership["changes"]["role"] == [None, "officer"]
    assert db.metadata.tables["memberships"] is Membership.__table__


def test_the_request_user_and_client_address_are_the_actor(app, client, make):
    tenant = make.tenant("bat-trang")
    admin = make.user("admin@bt.vn", "commune_admin", tenant)
    login(client, "admin@bt.vn")
    token = csrf_token(client, f"/c/{tenant.slug}/notices/new")
    response = client.post(f"/c/{tenant.slug}/notices/new", data={"title": "Họp dân", "body": "", "csrf_token": token},
                           environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert response.status_code == 302
    [entry] = row_entries(app, "notices")
    assert (entry["actor_kind"], entry["actor_id"], entry["actor_label"], entry["address"]) == (
        "user", admin.id, "admin@bt.vn", "203.0.113.7")


def test_a_sign_in_is_recorded_in_the_users_commune(app, client, make):
    tenant = make.tenant("bat-trang")
    officer = make.user("officer@bt.vn", "officer", tenant)
    login(client, "officer@bt.vn")
    [entry] = entries(app, action="sign_in")
    assert (entry["tenant_id"], entry["record_id"], entry["actor_label"]) == (tenant.id, str(officer.id),
                                                                              "officer@bt.vn")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account/password")})
    [out] = entries(app, action="sign_out")
    assert out["actor_id"] == officer.id and out["tenant_id"] == tenant.id


def test_a_wrong_password_records_no_sign_in(app, client, make):
    make.user("officer@bt.vn")
    login(client, "officer@bt.vn", "not-the-password")
    assert entries(app, action="sign_in") == []


def test_a_csv_download_is_recorded_with_its_file_and_rows(app, client, make):
    make.tenant("bat-trang")
    make.user("district@gialam.demo", "district_admin")
    login(client, "district@gialam.demo")
    response = client.get("/district/metrics.csv")
    assert response.status_code == 200
    [entry] = entries(app, action="csv_export")
    assert entry["changes"]["file"].endswith(".csv") and entry["changes"]["rows"] >= 1
    assert entry["actor_label"] == "district@gialam.demo" and entry["tenant_id"] is None


def test_a_cli_command_is_the_actor_of_what_it_changes(app, runner, make):
    tenant = make.tenant("bat-trang")
    result = runner.invoke(args=["tenants", "deactivate", tenant.slug])
    assert result.exit_code == 0, result.output
    [entry] = [e for e in row_entries(app, "tenants") if e["action"] == "update"]
    assert entry["actor_kind"] == "cli" and "tenants deactivate" in entry["actor_label"]
    assert entry["changes"] == {"status": ["active", "inactive"]} and entry["tenant_id"] == tenant.id


def test_acting_as_names_a_job(app, make):
    tenant = make.tenant("bat-trang")
    with app.app_context(), tenant_context(tenant), audit.acting_as("payments worker"):
        transactions.run(lambda: notices.create(None, "Tự động", ""))
    [entry] = row_entries(app, "notices")
    assert (entry["actor_kind"], entry["actor_label"]) == ("system", "payments worker")


def test_a_released_savepoint_does_not_split_the_transactions_entry(app, make):
    """SQLAlchemy calls the commit hooks when a savepoint is released too: the entry is still written once, at the
    transaction's commit, with what happened after the savepoint."""
    tenant = make.tenant("bat-trang")

    def work():
        with db.session.begin_nested():
            notice = notices.create(None, "Trong điểm lưu", "")
        notices.update(notice.id, "Sau điểm lưu", "", True)

    with app.app_context(), tenant_context(tenant):
        transactions.run(work)
    [entry] = row_entries(app, "notices")
    assert entry["action"] == "insert" and entry["changes"]["title"] == [None, "Sau điểm lưu"]


def test_behind_a_proxy_the_clients_address_is_recorded(app, database, make):
    """With TRUSTED_PROXY_COUNT set (nginx in front), the address is the client's from X-Forwarded-For."""
    from app import create_app
    from tests.conftest import _test_settings

    tenant = make.tenant("bat-trang")
    make.user("admin@bt.vn", "commune_admin", tenant)
    proxied = create_app({**_test_settings(database["app_url"]), "TRUSTED_PROXY_COUNT": 1})
    client = proxied.test_client()
    behind = {"REMOTE_ADDR": "10.0.0.2"}
    headers = {"X-Forwarded-For": "198.51.100.23"}
    token = csrf_token(client, "/login")
    client.post("/login", data={"email": "admin@bt.vn", "password": "correct-horse-42", "csrf_token": token},
                environ_base=behind, headers=headers)
    token = csrf_token(client, f"/c/{tenant.slug}/notices/new")
    response = client.post(f"/c/{tenant.slug}/notices/new", data={"title": "Qua proxy", "body": "", "csrf_token": token},
                           environ_base=behind, headers=headers)
    assert response.status_code == 302
    [entry] = row_entries(app, "notices")
    assert entry["address"] == "198.51.100.23"
    [sign_in] = entries(app, action="sign_in")
    assert sign_in["address"] == "198.51.100.23"
    with proxied.app_context():
        db.engine.dispose()
