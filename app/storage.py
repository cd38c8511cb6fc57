"""Where uploaded files live: dossier documents, result files, product images.

Files are kept by key (``onestop/12/dossier-40/3f9c….pdf``) outside the web root, under ``UPLOAD_DIR``, and are
served only by views that check who asks. Callers check a file's content and size before saving it; this module only
stores bytes. One small interface (``save``, ``load``, ``delete``, ``exists``, ``keys``) over two backends chosen by
``STORAGE_BACKEND``:

- ``local`` (default): a folder, ``UPLOAD_DIR``. Several app processes share it when they share the disk (the
  workers of one machine, or a network file system mounted at the same path).
- ``s3``: an S3-compatible object store (AWS S3, MinIO, Ceph, Viettel/FPT/VNPT object storage...) through boto3:
  ``S3_BUCKET``, ``S3_ENDPOINT_URL`` (empty for AWS), ``S3_REGION``, ``S3_ACCESS_KEY_ID``, ``S3_SECRET_ACCESS_KEY``,
  ``S3_PREFIX`` (a folder inside the bucket). Every app server sees the same files. The bucket stays private: files
  are still served by the application's views, which check who asks.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from flask import current_app

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$")


class StorageKeyError(ValueError):
    """A key that could leave the storage folder (``..``, an absolute path) or has characters we never generate."""


def _check(key: str) -> str:
    if not _KEY.match(key or "") or ".." in key.split("/") or len(key) > 255:
        raise StorageKeyError(f"not a storage key: {key!r}")
    return key


def _path(key: str) -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / _check(key)


def _backend() -> str:
    backend = current_app.config.get("STORAGE_BACKEND") or "local"
    if backend not in ("local", "s3"):
        raise RuntimeError(f"STORAGE_BACKEND must be 'local' or 's3', not {backend!r}")
    return backend


def save(key: str, data: bytes) -> str:
    """Store ``data`` under ``key`` (replacing what was there), atomically: a reader never sees half a file."""
    if _backend() == "s3":
        return _S3.save(_check(key), data)
    path = _path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return key


def load(key: str) -> bytes:
    """The stored bytes; ``FileNotFoundError`` when nothing is stored under ``key``."""
    if _backend() == "s3":
        return _S3.load(_check(key))
    return _path(key).read_bytes()


def exists(key: str) -> bool:
    if _backend() == "s3":
        return _S3.exists(_check(key))
    return _path(key).is_file()


def delete(key: str) -> None:
    if _backend() == "s3":
        return _S3.delete(_check(key))
    _path(key).unlink(missing_ok=True)


def keys(prefix: str = "") -> Iterator[str]:
    """Every stored key starting with ``prefix``, in order (backups and a commune's export walk them)."""
    if _backend() == "s3":
        yield from _S3.keys(prefix)
        return
    root = Path(current_app.config["UPLOAD_DIR"])
    if not root.is_dir():
        return
    found = []
    for path in root.rglob("*"):
        key = path.relative_to(root).as_posix()
        if path.is_file() and key.startswith(prefix) and _KEY.match(key) and ".." not in key.split("/"):
            found.append(key)  # skips half-written ".upload-" temporaries: not a key we generate
    yield from sorted(found)


class _S3:
    """The S3 backend: one boto3 client per app (thread-safe), made on first use."""

    @staticmethod
    def _client():
        client = current_app.extensions.get("storage_s3")
        if client is None:
            import boto3
            from botocore.config import Config as BotoConfig

            config = current_app.config
            if not config.get("S3_BUCKET"):
                raise RuntimeError("STORAGE_BACKEND=s3 needs S3_BUCKET.")
            client = boto3.client(
                "s3",
                endpoint_url=config.get("S3_ENDPOINT_URL") or None,
                region_name=config.get("S3_REGION") or None,
                aws_access_key_id=config.get("S3_ACCESS_KEY_ID") or None,
                aws_secret_access_key=config.get("S3_SECRET_ACCESS_KEY") or None,
                config=BotoConfig(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=30,
                                  s3={"addressing_style": config.get("S3_ADDRESSING_STYLE") or "auto"}),
            )
            current_app.extensions["storage_s3"] = client
        return client

    @staticmethod
    def _name(key: str) -> str:
        prefix = (current_app.config.get("S3_PREFIX") or "").strip("/")
        return f"{prefix}/{key}" if prefix else key

    @staticmethod
    def _missing(err) -> bool:
        code = str(err.response.get("Error", {}).get("Code", ""))
        return code in ("NoSuchKey", "404", "NotFound")

    @classmethod
    def save(cls, key: str, data: bytes) -> str:
        # A PUT is atomic in S3: readers see the old object or the new one, never half of it.
        cls._client().put_object(Bucket=current_app.config["S3_BUCKET"], Key=cls._name(key), Body=data)
        return key

    @classmethod
    def load(cls, key: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            answer = cls._client().get_object(Bucket=current_app.config["S3_BUCKET"], Key=cls._name(key))
        except ClientError as err:
            if cls._missing(err):
                raise FileNotFoundError(key) from None
            raise
        return answer["Body"].read()

    @classmethod
    def exists(cls, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            cls._client().head_object(Bucket=current_app.config["S3_BUCKET"], Key=cls._name(key))
        except ClientError as err:
            if cls._missing(err):
                return False
            raise
        return True

    @classmethod
    def delete(cls, key: str) -> None:
        cls._client().delete_object(Bucket=current_app.config["S3_BUCKET"], Key=cls._name(key))

    @classmethod
    def keys(cls, prefix: str) -> Iterator[str]:
        folder = cls._name("")
        pages = cls._client().get_paginator("list_objects_v2").paginate(
            Bucket=current_app.config["S3_BUCKET"], Prefix=folder + prefix)
        for page in pages:
            for item in page.get("Contents", ()):
                key = item["Key"][len(folder):]
                if _KEY.match(key):
                    yield key
