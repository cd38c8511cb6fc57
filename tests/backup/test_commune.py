"""A commune's archive: everything it owns (records, files, audit trail) exported and imported back, into an empty
database with the same ids, or into a database with other communes under new ids; the result is read back and its
audit trail verifies."""

from __future__ import annotations

import io
import json
import tarfile

import pytest
from sqlalchemy import insert, select

from app import create_app
from app.backup import commune, keys
from app.backup.snapshot import engine_for
from app.extensions import db
from tests.audit.helpers import entries
from tests.backup.conftest import _new_database
from tests.conftest import _test_settings

SLUG = "bat-trang"  # in the demo: staff, fee payments, dossiers, a market, four producers with pictured products


def _migrated(url: str, uploads) -> object:
    from flask_migrate import upgrade

    target = create_app({**_test_settings(url), "UPLOAD_DIR": str(uploads)})
    with target.app_context():
        upgrade()
    return target


def _dispose(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def target(database, tmp_path):
    """A new, migrated, empty database and an empty storage folder."""
    url, drop = _new_database(database, "target", tmp_path)
    app = _migrated(url, tmp_path / "target-uploads")
    try:
        yield url, app
    finally:
        _dispose(app)
        drop()


@pytest.fixture
def archive(runner, uploads, source_url, tmp_path):
    path = tmp_path / f"{SLUG}.tar.gz"
    result = runner.invoke(args=["commune", "export", SLUG, str(path), "--database-url", source_url])
    assert result.exit_code == 0, result.output
    return path


def _archived(path) -> tuple[dict, dict[str, list[dict]]]:
    with tarfile.open(path, "r:gz") as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
        tables = {name: [json.loads(line) for line in tar.extractfile(f"tables/{name}.jsonl").read().splitlines()]
                  for name in manifest["tables"]}
    return manifest, tables


def _selection(url: str, tenant_id: int) -> commune.Selection:
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            return commune.select_commune(conn, db.metadata, tenant_id=tenant_id)
    finally:
        engine.dispose()


def test_the_archive_holds_the_communes_records_files_and_trail_and_nothing_of_others(archive, source_url):
    manifest, tables = _archived(archive)
    tenant_id = manifest["commune"]["id"]
    assert manifest["commune"]["slug"] == SLUG
    for name, rows in tables.items():
        if "tenant_id" in rows[0]:
            assert {r["tenant_id"] for r in rows} == {tenant_id}, name
    assert {"onestop_dossiers", "payment_intents", "vendors", "products", "audit_entries", "memberships"} <= set(tables)
    users = {u["email"] for u in tables["users"]}
    assert f"admin.{SLUG}@gialam.demo" in users and "admin.kieu-ky@gialam.demo" not in users
    assert tables["users"] and manifest["tables"]["users"]["shared"] is True
    assert {f["key"].split("/", 1)[0] for f in manifest["files"]} == {"marketplace", "heritage"}  # products, relics
    assert all(keys.commune_of(f["key"]) == tenant_id for f in manifest["files"])
    assert manifest["tables"]["audit_entries"]["rows"] == len(tables["audit_entries"]) > 0


def test_an_export_is_recorded_in_the_communes_trail(app, archive, source_url):
    source = create_app(_test_settings(source_url))
    [entry] = [e for e in entries(source, action="commune_export") if e["changes"]["archive"] == str(archive)]
    assert entry["actor_kind"] == "cli" and entry["tenant_id"] == _archived(archive)[0]["commune"]["id"]
    _dispose(source)


def test_a_round_trip_into_an_empty_database_gives_the_same_rows_ids_and_files(runner, archive, target, tmp_path,
                                                                              monkeypatch, app):
    url, target_app = target
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "target-uploads"))
    result = runner.invoke(args=["commune", "import", str(archive), "--database-url", url])
    assert result.exit_code == 0, result.output
    assert "ids shifted: none" in result.output and "audit trail verified" in result.output
    manifest, tables = _archived(archive)
    tenant_id = manifest["commune"]["id"]
    imported = _selection(url, tenant_id)
    for name, rows in tables.items():
        have = imported.rows[name]
        if name == "audit_entries":  # the import itself is the trail's next entry
            assert have[:-1] == rows and have[-1]["action"] == "commune_import", name
        elif name == "audit_heads":
            assert have[0]["last_seq"] == rows[0]["last_seq"] + 1
        else:
            assert have == rows, name
    for item in manifest["files"]:
        assert (tmp_path / "target-uploads" / item["key"]).read_bytes() == _file(archive, item["key"])
    verify = target_app.test_cli_runner().invoke(args=["audit", "verify", "--commune", SLUG])
    assert verify.exit_code == 0, verify.output


def _file(archive, key: str) -> bytes:
    with tarfile.open(archive, "r:gz") as tar:
        return tar.extractfile(f"files/{key}").read()


def test_an_import_beside_other_communes_renumbers_and_the_pages_work(runner, archive, target, tmp_path, monkeypatch,
                                                                      app):
    """The target already has communes, accounts and products with the archive's ids, and one of the commune's
    accounts by its email: ids are shifted, the account is reused, picture keys follow their product's new id."""
    from marketplace.models import Product
    from tenants.scoping import all_tenants
    from tests.conftest import TEST_PASSWORD
    from tests.factories import Factory
    from tests.marketplace.helpers import make_vendor

    url, target_app = target
    monkeypatch.setitem(target_app.config, "UPLOAD_DIR", str(tmp_path / "target-uploads"))
    make = Factory(target_app)
    here = [make.tenant(f"xa-co-san-{n}") for n in range(25)]  # the archive's commune id is taken
    reused = make.user(f"admin.{SLUG}@gialam.demo", password=TEST_PASSWORD)
    for n in range(5):
        make.user(f"someone{n}@elsewhere.vn")
    shop = make_vendor(target_app, here[0], "Xưởng gốm có sẵn")
    with target_app.app_context(), all_tenants():  # the archive's product ids are taken too
        db.session.execute(insert(Product), [
            {"tenant_id": here[0].id, "vendor_id": shop, "category": "thu-cong-my-nghe", "name": f"Bình {n}",
             "slug": f"binh-{n}", "price": 100_000, "status": "draft"} for n in range(300)])
        db.session.commit()
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "target-uploads"))
    result = runner.invoke(args=["commune", "import", str(archive), "--database-url", url])
    assert result.exit_code == 0, result.output
    assert "tenants +" in result.output and "products +" in result.output and "users 1" in result.output
    manifest, tables = _archived(archive)
    new_id = int(result.output.split(" imported as commune ")[1].split(";")[0])
    assert new_id != manifest["commune"]["id"]
    imported = _selection(url, new_id)
    for name, rows in tables.items():
        if name not in imported.shared and name != "users":
            expected = len(rows) + (1 if name == "audit_entries" else 0)
            assert len(imported.rows.get(name, [])) == expected, name
    with target_app.app_context():
        from app.auth.models import Membership

        admin_roles = db.session.scalars(select(Membership).where(Membership.user_id == reused.id)).all()
        assert [(m.tenant_id, m.role) for m in admin_roles] == [(new_id, "commune_admin")]
    product = next(p for p in imported.rows["products"] if p["images"] and p["status"] == "published")
    client = target_app.test_client()
    picture = client.get(f"/marketplace/images/{product['id']}/{product['images'][0]}-thumb.jpg")
    assert picture.status_code == 200 and picture.mimetype == "image/jpeg"
    assert client.get(f"/c/{SLUG}/").status_code == 200
    verify = target_app.test_cli_runner().invoke(args=["audit", "verify", "--commune", SLUG])
    assert verify.exit_code == 0, verify.output


def test_importing_a_commune_the_database_already_has_is_refused(runner, archive, source_url):
    result = runner.invoke(args=["commune", "import", str(archive), "--database-url", source_url])
    assert result.exit_code != 0 and "already has the commune" in result.output


def _rewritten(archive, tmp_path, change) -> object:
    """The archive with its manifest changed by ``change`` (a damaged or foreign archive)."""
    with tarfile.open(archive, "r:gz") as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    manifest = json.loads(members["manifest.json"])
    change(manifest, members)
    members["manifest.json"] = json.dumps(manifest).encode()
    path = tmp_path / "changed.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_an_archive_of_another_schema_is_refused(runner, archive, target, tmp_path):
    url, _target_app = target
    changed = _rewritten(archive, tmp_path, lambda m, _files: m.update(schema_revision="0099_future"))
    result = runner.invoke(args=["commune", "import", str(changed), "--database-url", url])
    assert result.exit_code != 0 and "schema 0099_future" in result.output
    assert _selection_count(url) == 0


def test_a_damaged_archive_is_refused_and_nothing_is_imported(runner, archive, target, tmp_path):
    url, _target_app = target

    def damage(manifest, members):
        members["tables/onestop_dossiers.jsonl"] = members["tables/onestop_dossiers.jsonl"][:-40]

    changed = _rewritten(archive, tmp_path, damage)
    result = runner.invoke(args=["commune", "import", str(changed), "--database-url", url])
    assert result.exit_code != 0 and "damaged" in result.output
    assert _selection_count(url) == 0


def _selection_count(url: str) -> int:
    from sqlalchemy import func

    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(db.metadata.tables["tenants"])).scalar()
    finally:
        engine.dispose()


def test_export_refuses_an_unknown_commune_and_an_existing_file(runner, uploads, source_url, tmp_path):
    unknown = runner.invoke(args=["commune", "export", "nowhere", str(tmp_path / "x.tar.gz"), "--database-url",
                                  source_url])
    assert unknown.exit_code != 0 and "No commune" in unknown.output
    (tmp_path / "old.tar.gz").write_bytes(b"an older archive")
    existing = runner.invoke(args=["commune", "export", SLUG, str(tmp_path / "old.tar.gz"), "--database-url",
                                   source_url])
    assert existing.exit_code != 0 and "never overwrites" in existing.output
    assert (tmp_path / "old.tar.gz").read_bytes() == b"an older archive"
