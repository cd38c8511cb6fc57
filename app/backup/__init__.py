"""Backups with a tested restore, and a commune's data as an archive (docs/operations.md).

Both are driven by the SQLAlchemy metadata (every table, parents first), so a table another domain adds is covered
without a change here; uploaded files go through app/storage.py, and each domain declares the shape of its storage
keys with ``file_keys`` (keys.py). backups.py: the whole database and storage; commune.py: one commune's records,
files and audit trail; money.py: the money-invariants hook run after a restore; cli.py: the commands.
"""

from __future__ import annotations

from app.backup.keys import file_keys  # noqa: F401

