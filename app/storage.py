"""Where uploaded files live: dossier documents, result files, product images.

Files are kept by key (``onestop/12/dossier-40/3f9c….pdf``) outside the web root, under ``UPLOAD_DIR``, and are
served only by views that check who asks. Callers check a file's content and size before saving it; this module only
stores bytes. One small interface (``save``, ``load``, ``delete``, ``exists``) so that another backend (S3-compatible
object storage, for several app servers) can replace the folder without touching the domains.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from flask import current_app

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$")


class StorageKeyError(ValueError):
    """A key that could leave the storage folder (``..``, an absolute path) or has characters we never generate."""


def _path(key: str) -> Path:
    if not _KEY.match(key or "") or ".." in key.split("/") or len(key) > 255:
        raise StorageKeyError(f"not a storage key: {key!r}")
    return Path(current_app.config["UPLOAD_DIR"]) / key


def save(key: str, data: bytes) -> str:
    """Store ``data`` under ``key`` (replacing what was there), atomically: a reader never sees half a file."""
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
    return _path(key).read_bytes()


def exists(key: str) -> bool:
    return _path(key).is_file()


def delete(key: str) -> None:
    _path(key).unlink(missing_ok=True)
