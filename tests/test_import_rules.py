"""The import rules and the transaction boundary, read from the source with ``ast`` (and templates with Jinja's
own parser): docs/decisions.md, "The import rules".

1. Payments imports no domain (Python or template).
2. A domain reaches payments only through its own ``payments.py`` (and ``app.payments.reactions``, the signal it
   listens to); a domain imports no other domain, but the shared ones (``SHARED``).
3. Nothing imports another package's private names (``from x import _name``, or ``module._name``).
4. The tenancy core (``tenants/*.py``, ``app/`` outside ``app/payments``) imports no domain, but the composition
   root (``COMPOSITION_ROOT``: the few modules whose job is to name every domain).
5. The boundary: no ``session.commit()``/``session.rollback()`` outside ``app/transactions.py``, but the places
   ``COMMITS_ALLOWED`` names with their reason.

``KNOWN_VIOLATIONS`` holds today's breaches that other tasks are removing: the test fails on any breach not in it,
and on any entry that no longer occurs (the lead empties it when merging).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import jinja2
from jinja2 import meta

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("app", "tenants", "marketplace")
PAYMENTS = "app.payments"
REACTIONS = "app.payments.reactions"

# Domains any other domain may build on (the vendors package: the market and the marketplace both sell through it).
SHARED = {"tenants.vendors"}

# Core modules whose job is to name every domain. They still import no private name.
COMPOSITION_ROOT = {
    "app/__init__.py": "create_app registers every blueprint, explicitly",
    "app/models.py": "imports every model, so that Alembic and the scoping hooks see the whole schema",
    "app/cli.py": "adds every domain's commands to `flask`",
    "app/demo.py": "`flask seed-demo` seeds every domain's demo",
    "app/scale.py": "`flask seed-scale` loads every domain's scale data (the COPY plumbing is the core's)",
}

# Commits outside app/transactions.py that are the point of their place.
COMMITS_ALLOWED = {
    "app/__init__.py": "the 500 handler rolls back whatever a failed hook outside the view left in the session",
    "app/demo.py": "bulk seeding commits per commune: progress survives an interruption, memory stays bounded",
    "tenants/onestop/demo.py": "bulk seeding commits per commune (twelve months of dossiers each)",
    "tenants/market/demo.py": "bulk seeding commits per market",
    "marketplace/demo.py": "bulk seeding commits the producers' catalogue",
    "tenants/heritage/demo.py": "bulk seeding commits the relics of a commune at a time",
    "marketplace/importer.py": "a streamed CSV import commits row by row while it reports its progress",
    "app/scale.py": "seed-scale COPYs in bulk and commits per table",
    "app/payments/api/idempotency.py": "the API's idempotency records commit apart from the work they guard",
    "app/audit/cli.py": "flask audit verify only reads: it ends its read transaction",
    "app/backup/cli.py": "a restore verifies the restored trail in a read transaction of its own",
    "app/backup/snapshot.py": "a raw connection of the backup's engine commits its session setting (all communes)",
    "app/retention/cli.py": "the dry runs and a person's look-up only read: each ends its read transaction",
}

# Today's breaches, each removed by the task named (the lead empties this set when merging; the test fails on an
# entry that no longer occurs).
KNOWN_VIOLATIONS: set[tuple[str, str]] = set()

COMMIT_VIOLATIONS: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class Source:
    path: str  # relative to the repository, with /
    module: str
    tree: ast.Module


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def sources() -> list[Source]:
    found = []
    for top in SOURCES:
        for path in sorted((ROOT / top).rglob("*.py")):
            found.append(Source(path.relative_to(ROOT).as_posix(), _module_name(path),
                                ast.parse(path.read_text(encoding="utf-8"), str(path))))
    return found


def owner(module: str) -> str:
    """The package a module belongs to: a domain (``app.payments``, ``marketplace``, ``tenants.<name>``), a core
    package (``app.<name>``) or the core's top-level modules (``app``, ``tenants``); else its top-level name."""
    parts = module.split(".")
    if parts[0] == "marketplace":
        return "marketplace"
    if len(parts) > 1 and parts[0] in ("app", "tenants") and (ROOT / parts[0] / parts[1]).is_dir():
        return ".".join(parts[:2])
    return parts[0]


def is_domain(package: str) -> bool:
    return package in (PAYMENTS, "marketplace") or package.startswith("tenants.")


def is_core(package: str) -> bool:
    return package in ("app", "tenants") or (package.startswith("app.") and package != PAYMENTS)


def _is_module(name: str) -> bool:
    path = ROOT / Path(*name.split("."))
    return path.is_dir() or path.with_suffix(".py").is_file()


def _absolute(source: Source, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = source.module.split(".")
    if not source.path.endswith("__init__.py"):
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


@dataclass(frozen=True)
class Import:
    module: str  # the module imported from
    name: str | None  # the name taken from it, when it is not a module itself


def imports(source: Source) -> list[Import]:
    """Every import of the file, at the top or inside a function, and every ``module._name`` read through a module
    it imported."""
    found: list[Import] = []
    modules: dict[str, str] = {}  # local name -> module, for attribute reads
    for node in ast.walk(source.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(Import(alias.name, None))
                if alias.asname:
                    modules[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(source, node)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                if _is_module(full):
                    found.append(Import(full, None))
                    modules[alias.asname or alias.name] = full
                else:
                    found.append(Import(base, alias.name))
    for node in ast.walk(source.tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules
                and _private(node.attr)):
            found.append(Import(modules[node.value.id], node.attr))
    return found


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _ours(module: str) -> bool:
    return module.split(".")[0] in SOURCES


def import_violations(files: list[Source]) -> set[tuple[str, str]]:
    """(file, what it imports) for every import that breaks rules 1-4."""
    broken: set[tuple[str, str]] = set()
    for source in files:
        mine = owner(source.module)
        for imported in imports(source):
            if not _ours(imported.module):
                continue
            theirs = owner(imported.module)
            target = imported.module + (f".{imported.name}" if imported.name else "")
            if imported.name and _private(imported.name) and theirs != mine:
                broken.add((source.path, target))  # rule 3
            if theirs == mine or not is_domain(theirs):
                continue
            if mine == PAYMENTS:
                broken.add((source.path, imported.module))  # rule 1
            elif is_domain(mine):  # rule 2
                if theirs == PAYMENTS:
                    through_own = source.path.endswith("/payments.py")
                    if not (through_own or imported.module == REACTIONS):
                        broken.add((source.path, imported.module))
                elif theirs not in SHARED:
                    broken.add((source.path, imported.module))
            elif is_core(mine) and source.path not in COMPOSITION_ROOT:
                broken.add((source.path, imported.module))  # rule 4
    return broken


def _template_owners() -> dict[str, str]:
    """Template folder (the first part of a template's name) -> the package that holds it."""
    folders = {}
    for top in SOURCES:
        for templates in (ROOT / top).rglob("templates"):
            package = owner(".".join(templates.parent.relative_to(ROOT).parts))
            for folder in templates.iterdir():
                if folder.is_dir():
                    folders[folder.name] = package
    return folders


def template_violations() -> set[tuple[str, str]]:
    """(template, template it includes, extends or imports) across packages where rules 1, 2 and 4 forbid it."""
    folders = _template_owners()
    environment = jinja2.Environment(extensions=["jinja2.ext.i18n"])
    broken = set()
    for top in SOURCES:
        for path in (ROOT / top).rglob("templates/**/*.html"):
            parts = path.relative_to(ROOT).parts
            mine = owner(".".join(parts[:parts.index("templates")]))
            for name in meta.find_referenced_templates(environment.parse(path.read_text(encoding="utf-8"))):
                if not name or "/" not in name:
                    continue
                theirs = folders.get(name.split("/")[0])
                if theirs is None or theirs == mine or not is_domain(theirs) or theirs in SHARED:
                    continue
                if mine == PAYMENTS or is_domain(mine) or is_core(mine):
                    broken.add((path.relative_to(ROOT).as_posix(), name))
    return broken


def commit_violations(files: list[Source]) -> set[tuple[str, str]]:
    """(file, "session.commit" or "session.rollback") outside app/transactions.py and COMMITS_ALLOWED."""
    broken = set()
    for source in files:
        if source.path == "app/transactions.py" or source.path in COMMITS_ALLOWED:
            continue
        for node in ast.walk(source.tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("commit", "rollback") and _names_session(node.func.value)):
                broken.add((source.path, f"session.{node.func.attr}"))
    return broken


def _names_session(node: ast.expr) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "session") or (
        isinstance(node, ast.Name) and node.id == "session")


# --------------------------------------------------------------------------------------------------- the tests

def test_no_import_breaks_the_rules_but_the_known_ones():
    found = import_violations(sources()) | template_violations()
    assert sorted(found - KNOWN_VIOLATIONS) == [], "new imports across the rules (see this module's docstring)"


def test_every_known_violation_still_occurs():
    found = import_violations(sources()) | template_violations()
    assert sorted(KNOWN_VIOLATIONS - found) == [], "fixed: remove these from KNOWN_VIOLATIONS"


def test_no_commit_or_rollback_outside_the_boundary_but_the_allowed_ones():
    found = commit_violations(sources())
    assert sorted(found - COMMIT_VIOLATIONS) == [], "views, services and jobs leave commit and rollback to " \
                                                    "app/transactions.py (or COMMITS_ALLOWED says why not)"
    assert sorted(COMMIT_VIOLATIONS - found) == [], "fixed: remove these from COMMIT_VIOLATIONS"


def test_every_allowed_place_exists_and_says_why():
    for path, reason in {**COMPOSITION_ROOT, **COMMITS_ALLOWED}.items():
        assert (ROOT / path).is_file(), path
        assert len(reason) > 20, path


# --- the rules themselves, on small made-up sources (a check that cannot fail proves nothing) ------------------

def _violations_of(path: str, code: str) -> set[tuple[str, str]]:
    files = [Source(path, _module_name(ROOT / path), ast.parse(code))]
    return import_violations(files) | commit_violations(files)


def test_the_rules_catch_each_kind_of_breach():
    assert _violations_of("app/payments/intents.py", "from tenants.onestop import models") == {
        ("app/payments/intents.py", "tenants.onestop.models")}
    assert _violations_of("tenants/onestop/services.py", "def f():\n    from app.payments import intents") == {
        ("tenants/onestop/services.py", "app.payments.intents")}
    assert _violations_of("tenants/onestop/payments.py", "from app.payments import intents") == set()
    assert _violations_of("tenants/onestop/__init__.py", "from app.payments.reactions import payment_event") == set()
    assert _violations_of("marketplace/queries.py", "from tenants.onestop.models import Dossier") == {
        ("marketplace/queries.py", "tenants.onestop.models")}
    assert _violations_of("tenants/views.py", "from tenants.notices import services") == {
        ("tenants/views.py", "tenants.notices.services")}
    assert _violations_of("app/models.py", "from tenants.notices.models import Notice") == set()
    assert _violations_of("app/demo.py", "from tenants.onestop.demo import _NAMES") == {
        ("app/demo.py", "tenants.onestop.demo._NAMES")}
    assert _violations_of("app/district/views.py", "from app import text\ntext._fold_table") == {
        ("app/district/views.py", "app.text._fold_table")}
    assert _violations_of("tenants/onestop/views_staff.py", "from tenants.onestop.services import _log") == set()
    assert _violations_of("tenants/notices/views.py", "from app.extensions import db\ndb.session.commit()") == {
        ("tenants/notices/views.py", "session.commit")}
    assert _violations_of("marketplace/services.py", "savepoint.rollback()") == set()
