"""A backup of the seeded demo restores to identical row counts and digests and identical files, on SQLite and on
PostgreSQL (CI runs the suite on both); a restore into anything non-empty is refused; a damaged backup is refused."""

from __future__ import annotations

import json

import click
import pytest

from app.backup import money
from app.payments import cli as payments_cli
from tests.audit.helpers import entries
from tests.backup.conftest import table_summaries


def _create(runner, path, url):
    result = runner.invoke(args=["backup", "create", str(path), "--database-url", url])
    assert result.exit_code == 0, result.output
    return json.loads((path / "manifest.json").read_text(encoding="utf-8"))


def _restore(runner, path, url, *extra):
    return runner.invoke(args=["backup", "restore", str(path), "--database-url", url, *extra])


def test_a_backup_of_the_demo_restores_identical(app, runner, database, uploads, source_url, empty_database,
                                                tmp_path):
    before = table_summaries(source_url)
    assert before["tenants"]["rows"] == 22 and before["onestop_dossiers"]["rows"] > 0
    assert before["payment_intents"]["rows"] > 0 and before["audit_entries"]["rows"] > 0
    manifest = _create(runner, tmp_path / "backup", source_url)
    assert manifest["tables"] == before  # the manifest describes exactly what was there
    assert manifest["files"] and all(f["size"] > 0 for f in manifest["files"])  # the products' pictures
    original_files = {f["key"]: (uploads.current / f["key"]).read_bytes() for f in manifest["files"]}

    uploads.move("restored-uploads")
    extra = ("--app-role", "gialam_app") if database["kind"] == "postgresql" else ()
    result = _restore(runner, tmp_path / "backup", empty_database, *extra)
    assert result.exit_code == 0, result.output
    assert "identical to the backup" in result.output and "Audit trail verified" in result.output
    assert "Money invariants: flask payments check passed." in result.output  # the real check, on the restored data

    after = table_summaries(empty_database)
    restore_entry = after.pop("audit_entries"), after.pop("audit_heads")
    expected = dict(before)
    expected_entries, _heads = expected.pop("audit_entries"), expected.pop("audit_heads")
    assert after == expected  # every table, row for row
    assert restore_entry[0]["rows"] == expected_entries["rows"] + 1  # and the restore itself, in the district trail
    assert {key: (uploads.current / key).read_bytes() for key in original_files} == original_files


def test_the_restored_trail_tells_who_restored_which_backup(app, runner, uploads, empty_database, demo_backup):
    uploads.move("restored-uploads")
    assert _restore(runner, demo_backup, empty_database).exit_code == 0
    from app import create_app
    from tests.conftest import _test_settings

    restored = create_app({**_test_settings(empty_database), "UPLOAD_DIR": str(uploads.current)})
    [entry] = entries(restored, action="backup_restore")
    assert entry["tenant_id"] is None and entry["actor_kind"] == "cli" and "backup restore" in entry["actor_label"]
    assert entry["changes"]["backup"] == str(demo_backup)
    with restored.app_context():
        from app.extensions import db

        db.engine.dispose()


def test_a_restore_into_a_database_that_holds_anything_is_refused(runner, uploads, source_url, demo_backup):
    before = table_summaries(source_url)
    uploads.move("restored-uploads")
    result = _restore(runner, demo_backup, source_url)
    assert result.exit_code != 0 and "The target database is not empty" in result.output
    assert table_summaries(source_url) == before  # nothing was touched
    assert not uploads.current.exists()


def test_a_restore_into_storage_that_holds_files_is_refused(runner, uploads, empty_database, demo_backup):
    folder = uploads.move("busy-uploads")
    (folder / "marketplace").mkdir(parents=True)
    (folder / "marketplace" / "x.jpg").write_bytes(b"someone's file")
    result = _restore(runner, demo_backup, empty_database)
    assert result.exit_code != 0 and "The target storage is not empty" in result.output


@pytest.mark.parametrize("damage", ["database", "file", "manifest"])
def test_a_damaged_backup_is_found_by_check_and_refused_by_restore(runner, uploads, empty_database, demo_backup,
                                                                   damage):
    manifest = json.loads((demo_backup / "manifest.json").read_text(encoding="utf-8"))
    assert runner.invoke(args=["backup", "check", str(demo_backup)]).exit_code == 0
    if damage == "database":
        path = demo_backup / manifest["database"]["file"]
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    elif damage == "file":
        (demo_backup / "files" / manifest["files"][0]["key"]).write_bytes(b"not the picture")
    else:
        (demo_backup / "manifest.json").write_text("{}", encoding="utf-8")
    checked = runner.invoke(args=["backup", "check", str(demo_backup)])
    assert checked.exit_code != 0
    uploads.move("restored-uploads")
    result = _restore(runner, demo_backup, empty_database)
    assert result.exit_code != 0 and ("damaged" in result.output or "not a backup" in result.output)


def test_a_backup_never_overwrites_a_folder(runner, source_url, tmp_path):
    (tmp_path / "backup").mkdir()
    (tmp_path / "backup" / "older.txt").write_text("an older backup")
    result = runner.invoke(args=["backup", "create", str(tmp_path / "backup"), "--database-url", source_url])
    assert result.exit_code != 0 and "never overwrites" in result.output


def test_the_money_check_runs_after_a_restore_and_its_failure_fails_the_restore(runner, uploads, empty_database,
                                                                                 demo_backup, monkeypatch):
    """The hook: the exit code of `flask payments check` decides the restore's. A stand-in command that fails proves
    the wiring (the real one passes on the demo: test_a_backup_of_the_demo_restores_identical)."""
    seen = []

    @click.command("check")
    def failing_check():
        from app.extensions import db

        seen.append(str(db.engine.url))
        click.echo("invariant broken: a refund larger than its payment")
        raise SystemExit(1)

    monkeypatch.setitem(payments_cli.payments_cli.commands, "check", failing_check)
    assert money.payments_check_command(runner.app) is failing_check
    uploads.move("restored-uploads")
    result = _restore(runner, demo_backup, empty_database)
    assert result.exit_code == 1
    assert "invariant broken" in result.output and "FAILED" in result.output
    assert seen and seen[0].split("/")[-1] == empty_database.split("/")[-1]  # it ran on the restored database


def test_without_a_money_check_the_restore_says_it_was_not_run(runner, uploads, empty_database, demo_backup,
                                                               monkeypatch):
    monkeypatch.delitem(payments_cli.payments_cli.commands, "check", raising=False)
    uploads.move("restored-uploads")
    result = _restore(runner, demo_backup, empty_database)
    assert result.exit_code == 0 and "the money invariants were not checked" in result.output
