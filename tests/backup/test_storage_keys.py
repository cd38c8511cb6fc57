"""Backups and a commune's archive walk the stored files with ``storage.keys``: the local folder and S3 alike."""

from __future__ import annotations

import pytest

from app import storage
from app.backup import keys


@pytest.fixture
def local(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    with app.app_context():
        yield tmp_path


def test_local_keys_are_listed_in_order_without_half_written_files(local):
    for key in ("onestop/2/dossier-9/a.pdf", "marketplace/2/7/x-full.jpg", "marketplace/10/3/y-thumb.jpg"):
        storage.save(key, b"data")
    (local / "marketplace" / ".upload-abc").write_bytes(b"half")
    assert list(storage.keys()) == ["marketplace/10/3/y-thumb.jpg", "marketplace/2/7/x-full.jpg",
                                    "onestop/2/dossier-9/a.pdf"]
    assert list(storage.keys("marketplace/2/")) == ["marketplace/2/7/x-full.jpg"]


def test_no_folder_means_no_keys(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "never-made"))
    with app.app_context():
        assert list(storage.keys()) == []


def test_s3_keys_are_listed_under_the_prefix(app, monkeypatch, tmp_path):
    moto_server = pytest.importorskip("moto.server")
    import boto3

    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        settings = {"STORAGE_BACKEND": "s3", "S3_BUCKET": "gialam-keys", "S3_ENDPOINT_URL": url,
                    "S3_REGION": "ap-southeast-1", "S3_ACCESS_KEY_ID": "test", "S3_SECRET_ACCESS_KEY": "test",
                    "S3_PREFIX": "district", "S3_ADDRESSING_STYLE": "path", "UPLOAD_DIR": str(tmp_path)}
        for name, value in settings.items():
            monkeypatch.setitem(app.config, name, value)
        client = boto3.client("s3", endpoint_url=url, region_name="ap-southeast-1", aws_access_key_id="test",
                              aws_secret_access_key="test")
        client.create_bucket(Bucket="gialam-keys",
                             CreateBucketConfiguration={"LocationConstraint": "ap-southeast-1"})
        client.put_object(Bucket="gialam-keys", Key="elsewhere/not-ours.txt", Body=b"x")
        app.extensions.pop("storage_s3", None)
        with app.app_context():
            for n in range(3):
                storage.save(f"onestop/5/dossier-{n}/a.pdf", b"%PDF")
            assert list(storage.keys()) == [f"onestop/5/dossier-{n}/a.pdf" for n in range(3)]
            assert list(storage.keys("onestop/5/dossier-1/")) == ["onestop/5/dossier-1/a.pdf"]
    finally:
        app.extensions.pop("storage_s3", None)
        server.stop()


def test_declared_key_shapes_say_whose_file_it_is_and_follow_new_ids():
    assert keys.commune_of("marketplace/12/40/abc-full.jpg") == 12
    assert keys.commune_of("onestop/12/dossier-9/submitted-1f.pdf") == 12
    assert keys.commune_of("somewhere/else.txt") is None
    moved = {"tenants": {12: 31}, "products": {40: 400}, "onestop_dossiers": {9: 90}}
    new_id = lambda table, old: moved[table].get(old, old)  # noqa: E731
    assert keys.rewrite("marketplace/12/40/abc-full.jpg", new_id) == "marketplace/31/400/abc-full.jpg"
    assert keys.rewrite("onestop/12/dossier-9/submitted-1f.pdf", new_id) == "onestop/31/dossier-90/submitted-1f.pdf"
    assert keys.prefixes(12) == ["heritage/12/", "marketplace/12/", "onestop/12/"]
    assert keys.rewrite("heritage/12/relic-5/ab-full.jpg", lambda table, old: {"tenants": 31, "heritage_relics": 50}
                        .get(table, old)) == "heritage/31/relic-50/ab-full.jpg"


def test_a_key_shape_must_name_its_commune():
    with pytest.raises(ValueError, match="tenants"):
        keys.file_keys("heritage/{heritage_relics}/")
