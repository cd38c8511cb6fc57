"""Uploaded files in and out of a backup or an archive, through app/storage.py (a local folder or S3 alike).

A file is kept under its key (``files/<key>`` in the backup folder or archive) with its size and SHA-256 in the
manifest; restoring writes each back under the same key and checks it again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from app import storage


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def described(key: str, data: bytes) -> dict:
    return {"key": key, "size": len(data), "sha256": sha256(data)}


def copy_out(keys: Iterable[str], folder: Path) -> list[dict]:
    """Copy each stored file into ``folder``/key; its description for the manifest."""
    listed = []
    for key in keys:
        try:
            data = storage.load(key)
        except FileNotFoundError:
            continue  # deleted since it was listed
        path = folder / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        listed.append(described(key, data))
    return listed


def check(folder: Path, listed: list[dict]) -> list[str]:
    """What is wrong with the copies in ``folder`` against the manifest (empty when nothing is)."""
    problems = []
    for item in listed:
        path = folder / item["key"]
        if not path.is_file():
            problems.append(f"file {item['key']} is missing from the backup")
            continue
        data = path.read_bytes()
        if len(data) != item["size"] or sha256(data) != item["sha256"]:
            problems.append(f"file {item['key']} does not match its digest")
    return problems


def copy_in(folder: Path, listed: list[dict], rename=None) -> None:
    for item in listed:
        key = rename(item["key"]) if rename else item["key"]
        storage.save(key, (folder / item["key"]).read_bytes())


def check_stored(listed: list[dict], rename=None) -> list[str]:
    """What is wrong with the stored files against the manifest, after a restore."""
    problems = []
    for item in listed:
        key = rename(item["key"]) if rename else item["key"]
        try:
            data = storage.load(key)
        except FileNotFoundError:
            problems.append(f"file {key} was not restored")
            continue
        if sha256(data) != item["sha256"]:
            problems.append(f"file {key} does not match its digest")
    return problems
