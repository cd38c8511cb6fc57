"""Uploaded files are stored by key under UPLOAD_DIR, never outside it."""

import pytest

from app import storage


@pytest.fixture
def upload_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    with app.app_context():
        yield tmp_path


def test_saved_bytes_are_loaded_back_and_deleted(upload_dir):
    storage.save("onestop/1/dossier-7/a.pdf", b"%PDF-1.4 x")
    assert (upload_dir / "onestop/1/dossier-7/a.pdf").read_bytes() == b"%PDF-1.4 x"
    assert storage.exists("onestop/1/dossier-7/a.pdf")
    assert storage.load("onestop/1/dossier-7/a.pdf") == b"%PDF-1.4 x"
    storage.save("onestop/1/dossier-7/a.pdf", b"second")
    assert storage.load("onestop/1/dossier-7/a.pdf") == b"second"
    storage.delete("onestop/1/dossier-7/a.pdf")
    assert not storage.exists("onestop/1/dossier-7/a.pdf")
    with pytest.raises(FileNotFoundError):
        storage.load("onestop/1/dossier-7/a.pdf")


@pytest.mark.parametrize("key", ["../etc/passwd", "/etc/passwd", "a/../../b", "a//b", "", "a/b\\c", ".hidden"])
def test_keys_that_could_leave_the_folder_are_refused(upload_dir, key):
    with pytest.raises(storage.StorageKeyError):
        storage.save(key, b"x")
    assert list(upload_dir.iterdir()) == []
