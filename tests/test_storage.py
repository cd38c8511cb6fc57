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


# --- the S3-compatible backend, against a real S3 server (moto's, over HTTP on 127.0.0.1) ------------------------

@pytest.fixture(scope="module")
def s3_server():
    moto_server = pytest.importorskip("moto.server")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_storage(app, s3_server, monkeypatch, tmp_path):
    import boto3

    settings = {"STORAGE_BACKEND": "s3", "S3_BUCKET": "gialam-uploads", "S3_ENDPOINT_URL": s3_server,
                "S3_REGION": "ap-southeast-1", "S3_ACCESS_KEY_ID": "test", "S3_SECRET_ACCESS_KEY": "test",
                "S3_PREFIX": "district-test", "S3_ADDRESSING_STYLE": "path", "UPLOAD_DIR": str(tmp_path)}
    for name, value in settings.items():
        monkeypatch.setitem(app.config, name, value)
    client = boto3.client("s3", endpoint_url=s3_server, region_name="ap-southeast-1", aws_access_key_id="test",
                          aws_secret_access_key="test")
    client.create_bucket(Bucket="gialam-uploads", CreateBucketConfiguration={"LocationConstraint": "ap-southeast-1"})
    app.extensions.pop("storage_s3", None)
    with app.app_context():
        yield client
    app.extensions.pop("storage_s3", None)
    for item in client.list_objects_v2(Bucket="gialam-uploads").get("Contents", []):
        client.delete_object(Bucket="gialam-uploads", Key=item["Key"])
    client.delete_bucket(Bucket="gialam-uploads")


def test_the_s3_backend_stores_loads_and_deletes_in_the_bucket(s3_storage, tmp_path):
    storage.save("marketplace/3/product-9/photo.webp", b"RIFF....WEBP")
    stored = s3_storage.get_object(Bucket="gialam-uploads", Key="district-test/marketplace/3/product-9/photo.webp")
    assert stored["Body"].read() == b"RIFF....WEBP"
    assert list(tmp_path.iterdir()) == []  # nothing on the local disk
    assert storage.exists("marketplace/3/product-9/photo.webp")
    assert storage.load("marketplace/3/product-9/photo.webp") == b"RIFF....WEBP"
    storage.save("marketplace/3/product-9/photo.webp", b"second")
    assert storage.load("marketplace/3/product-9/photo.webp") == b"second"
    storage.delete("marketplace/3/product-9/photo.webp")
    assert not storage.exists("marketplace/3/product-9/photo.webp")
    with pytest.raises(FileNotFoundError):
        storage.load("marketplace/3/product-9/photo.webp")


@pytest.mark.parametrize("key", ["../etc/passwd", "/etc/passwd", "a/../../b", "a//b", ""])
def test_the_s3_backend_refuses_the_same_keys(s3_storage, key):
    with pytest.raises(storage.StorageKeyError):
        storage.save(key, b"x")
    assert s3_storage.list_objects_v2(Bucket="gialam-uploads").get("KeyCount", 0) == 0


def test_an_unknown_backend_stops_with_a_clear_error(app, monkeypatch):
    monkeypatch.setitem(app.config, "STORAGE_BACKEND", "ftp")
    with app.app_context(), pytest.raises(RuntimeError, match="STORAGE_BACKEND"):
        storage.save("a/b.txt", b"x")
