"""Which stored files belong to which records: each domain declares the shape of its storage keys.

    from app import backup
    backup.file_keys("onestop/{tenants}/dossier-{onestop_dossiers}/")

A ``{table}`` names the id of a row of that table; ``{tenants}`` is required (it says whose file it is). A commune's
export takes the files whose keys match a pattern with its id; an import that gives the commune's rows new ids
rewrites the ids in those keys (the files' and the columns that hold them) the same way (app/backup/commune.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


@dataclass(frozen=True)
class KeyPattern:
    pattern: str
    regex: re.Pattern
    tables: tuple[str, ...]  # the table of each group, in order

    def match(self, key: str):
        return self.regex.match(key)


_PATTERNS: dict[str, KeyPattern] = {}


def file_keys(pattern: str) -> None:
    """Declare a shape of storage key (a prefix; what follows it is kept as it is)."""
    tables, parts, last = [], [], 0
    for found in _PLACEHOLDER.finditer(pattern):
        parts.append(re.escape(pattern[last:found.start()]))
        parts.append(rf"(?P<g{len(tables)}>\d+)")
        tables.append(found.group(1))
        last = found.end()
    parts.append(re.escape(pattern[last:]))
    if "tenants" not in tables:
        raise ValueError(f"a file key pattern names its commune: {{tenants}} is missing from {pattern!r}")
    _PATTERNS[pattern] = KeyPattern(pattern, re.compile("".join(parts)), tuple(tables))


def patterns() -> list[KeyPattern]:
    return list(_PATTERNS.values())


def commune_of(key: str) -> int | None:
    """The commune a stored file belongs to, or None for a key no domain declared."""
    for declared in _PATTERNS.values():
        found = declared.match(key)
        if found:
            return int(found.group(f"g{declared.tables.index('tenants')}"))
    return None


def prefixes(tenant_id: int) -> list[str]:
    """Where to list a commune's files: each pattern's fixed start, up to its commune id when that comes first."""
    found = []
    for declared in _PATTERNS.values():
        head = declared.pattern.split("{", 1)[0]
        if declared.pattern[len(head):].startswith("{tenants}"):
            head += f"{tenant_id}/" if declared.pattern[len(head) + len("{tenants}"):].startswith("/") else ""
        found.append(head)
    return sorted(set(found))


def rewrite(key: str, new_id) -> str:
    """``key`` with each id it names replaced by ``new_id(table, old_id)``; unchanged when no pattern matches."""
    for declared in _PATTERNS.values():
        found = declared.match(key)
        if not found:
            continue
        pieces, last = [], 0
        for index, table in enumerate(declared.tables):
            start, end = found.span(f"g{index}")
            pieces += [key[last:start], str(new_id(table, int(found.group(f"g{index}"))))]
            last = end
        return "".join(pieces) + key[last:]
    return key


def check(metadata) -> list[str]:
    return [f"backup.file_keys({p.pattern!r}): no table {table!r}" for p in _PATTERNS.values() for table in p.tables
            if table not in metadata.tables]
