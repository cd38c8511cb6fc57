"""The chains: appending entries (numbered, each carrying the digest of the one before) and verifying them.

An entry's digest is the SHA-256 of its canonical JSON (sorted keys, no spaces, UTF-8): its number, the previous
digest, the time, the actor, the action, the table, the record and the changes. The commune is not part of it, so a
commune's trail still verifies after an import that gives the commune another id (app/backup/commune.py); its place
is fixed by the number and the previous digest. Editing, removing or reordering an entry breaks every digest after it;
``verify`` finds the first break of each chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from app import locks
from app.audit.models import GENESIS, AuditEntry, AuditHead
from app.clock import as_utc


def instant(at: datetime) -> str:
    """The time as the digest reads it: UTC, microseconds (what both databases keep)."""
    return as_utc(at).astimezone(timezone.utc).isoformat(timespec="microseconds")


def digest_of(*, seq: int, prev: str, at: datetime, actor_kind: str, actor_id: int | None, actor_label: str,
              address: str | None, action: str, table_name: str | None, record_id: str | None, changes) -> str:
    fields = {"seq": seq, "prev": prev, "at": instant(at), "actor": [actor_kind, actor_id, actor_label, address],
              "action": action, "table": table_name, "record": record_id, "changes": changes}
    payload = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def entry_digest(entry: AuditEntry) -> str:
    return digest_of(seq=entry.seq, prev=entry.prev_digest, at=entry.at, actor_kind=entry.actor_kind,
                     actor_id=entry.actor_id, actor_label=entry.actor_label, address=entry.address,
                     action=entry.action, table_name=entry.table_name, record_id=entry.record_id,
                     changes=entry.changes)


def _head_condition(chain: int | None):
    return AuditHead.tenant_id.is_(None) if chain is None else AuditHead.tenant_id == chain


def _locked_head(session, chain: int | None) -> AuditHead:
    """The chain's head, locked until commit; created on a chain's first entry (two first writers: one creates it,
    both then wait for the lock in turn)."""
    head = locks.lock_one(AuditHead, _head_condition(chain))
    if head is None:
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        session.execute(dialect.insert(AuditHead).values(tenant_id=chain, last_seq=0, last_digest=GENESIS)
                        .on_conflict_do_nothing())
        head = locks.lock_one(AuditHead, _head_condition(chain))
    return head


def append(session, chain: int | None, entries: Iterable[dict]) -> list[AuditEntry]:
    """Add ``entries`` (dicts of AuditEntry's columns but seq and digests) to the end of ``chain``, in order.
    Flushes nothing itself: the caller's commit writes them with the head."""
    head = _locked_head(session, chain)
    seq, prev = head.last_seq, head.last_digest
    written = []
    for values in entries:
        seq += 1
        entry = AuditEntry(tenant_id=chain, seq=seq, prev_digest=prev, **values)
        entry.digest = entry_digest(entry)
        session.add(entry)
        written.append(entry)
        prev = entry.digest
    head.last_seq, head.last_digest = seq, prev
    return written


@dataclass(frozen=True)
class Break:
    chain: int | None
    seq: int | None
    entry_id: int | None
    reason: str

    def __str__(self) -> str:
        where = "district chain" if self.chain is None else f"chain of commune {self.chain}"
        at = f", entry no. {self.seq}" + (f" (id {self.entry_id})" if self.entry_id is not None else "")
        return f"{where}{at if self.seq is not None else ''}: {self.reason}"


def _entries(session, chain: int | None) -> Iterator[AuditEntry]:
    condition = AuditEntry.tenant_id.is_(None) if chain is None else AuditEntry.tenant_id == chain
    query = select(AuditEntry).where(condition).order_by(AuditEntry.seq, AuditEntry.id)
    yield from session.scalars(query.execution_options(yield_per=2000))


def verify_chain(session, chain: int | None, head: AuditHead | None) -> tuple[int, Break | None]:
    """(entries checked, the first break or None)."""
    expected, prev, checked = 1, GENESIS, 0
    for entry in _entries(session, chain):
        checked += 1
        if entry.seq != expected:
            reason = (f"entry no. {expected} is missing (removed?)" if entry.seq > expected
                      else "a second entry carries this number")
            return checked, Break(chain, entry.seq, entry.id, reason)
        if entry.prev_digest != prev:
            return checked, Break(chain, entry.seq, entry.id, "it does not carry the digest of the entry before it")
        if entry_digest(entry) != entry.digest:
            return checked, Break(chain, entry.seq, entry.id, "its content does not match its digest (edited?)")
        prev, expected = entry.digest, expected + 1
    last = expected - 1
    if head is None:
        if checked:
            return checked, Break(chain, None, None, "entries exist but the chain has no head")
        return checked, None
    if head.last_seq != last or head.last_digest != prev:
        if head.last_seq > last:
            reason = f"the head says {head.last_seq} entries, {last} remain (the last ones removed?)"
        else:
            reason = f"the head (no. {head.last_seq}) does not match the last entry (no. {last})"
        return checked, Break(chain, None, None, reason)
    return checked, None


def chains(session) -> list[int | None]:
    """Every chain that has a head or an entry, the district's first."""
    found = set(session.scalars(select(AuditHead.tenant_id)))
    found |= set(session.scalars(select(AuditEntry.tenant_id).group_by(AuditEntry.tenant_id)))
    return sorted(found, key=lambda c: (c is not None, c or 0))


def verify(session, only: Iterable[int | None] | None = None) -> tuple[dict[int | None, int], list[Break]]:
    """Check every chain (or ``only`` those): ({chain: entries checked}, [the first break of each broken chain])."""
    heads = {head.tenant_id: head for head in session.scalars(select(AuditHead))}
    counts, breaks = {}, []
    for chain in (chains(session) if only is None else list(only)):
        counts[chain], found = verify_chain(session, chain, heads.get(chain))
        if found is not None:
            breaks.append(found)
    return counts, breaks


def entry_count(session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEntry))
