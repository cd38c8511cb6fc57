"""Extension objects, created unbound and initialised in create_app (the application-factory pattern)."""

import sqlite3
import time

from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from limits import RateLimitItem
from limits.errors import StorageError
from limits.storage import RedisStorage
from limits.strategies import FixedWindowRateLimiter
from limits.util import WindowStats
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

from app.jinja_gettext import CatalogueBabel
from tenants.scoping import TenantSession

# Stable constraint names, so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def one_of(column: str, values: tuple[str, ...]) -> str:
    """SQL for a CHECK constraint keeping ``column`` within the Python tuple that names the allowed values."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


# Set in an index's ``info`` when it exists on PostgreSQL only (an extension's operator class): the migration creates
# it there alone, and the schema comparison (migrations/env.py, tests/test_migrations.py) leaves it out elsewhere.
POSTGRESQL_ONLY = "postgresql_only"


def schema_filter(dialect_name: str):
    """Alembic ``include_object`` for comparing the models with a database of ``dialect_name``."""

    def include(obj, name, type_, reflected, compare_to) -> bool:
        if dialect_name == "postgresql" or reflected:
            return True
        return not getattr(obj, "info", {}).get(POSTGRESQL_ONLY, False)

    return include


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# expire_on_commit off: sessions live for one request or job, and objects read across tenants (bank
# notifications, API keys) must stay readable after commit without a reload the scoping would refuse.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False, "class_": TenantSession})
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = CatalogueBabel()  # Flask-Babel reading the request's catalogue directly (#17)


class _OneTripWindows(FixedWindowRateLimiter):
    """The fixed window's figures for the X-RateLimit-* headers (the count so far and when the window ends) in one
    Redis round trip: limits asks with a GET, then a TTL; here the two go in one pipeline (issue #17: the API's
    POSTs and the bank notifications answer with the headers, and each round trip is a wait under load). The
    answer is limits' own (``get_window_stats`` of ``FixedWindowRateLimiter``); a Redis error is its StorageError
    too, so the limiter's fallback to counting in memory is unchanged."""

    def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> WindowStats:
        storage = self.storage
        key = storage.prefixed_key(item.key_for(*identifiers))
        try:
            count, ttl = storage.get_connection(True).pipeline(transaction=False).get(key).ttl(key).execute()
        except storage.base_exceptions as exc:
            raise StorageError(exc) from exc
        return WindowStats(max(ttl, 0) + time.time(), max(0, item.amount - int(count or 0)))


class GialamLimiter(Limiter):
    """Flask-Limiter, with the fixed window's header figures read in one Redis round trip (``_OneTripWindows``)."""

    def init_app(self, app) -> None:
        super().init_app(app)
        # Disabled (RATELIMIT_ENABLED false), Flask-Limiter makes no storage and no strategy: nothing to replace.
        if isinstance(getattr(self, "_storage", None), RedisStorage) and type(self._limiter) is FixedWindowRateLimiter:
            self._limiter = _OneTripWindows(self.storage)  # the strategy Flask-Limiter made from the same storage


limiter = GialamLimiter(key_func=get_remote_address, default_limits=[])
_LIMITED_READS: set[str] = set()  # names of the blueprints whose GETs are counted too (limit_reads)


def limit_reads(blueprint):
    """Count the GETs of ``blueprint`` against its limits too (the API's reads per key, the one-stop look-ups by
    dossier code per address). Returns the blueprint."""
    _LIMITED_READS.add(blueprint.name)
    return blueprint


@limiter.request_filter
def _never_limited() -> bool:
    """Reads carry no limit but those of ``limit_reads`` blueprints (the limits are on login and webhook POSTs), so
    they skip Flask-Limiter's per-request resolution of limits: on the payer's QR image and status poll, the hottest
    routes, that resolution was about a quarter of the app's time per request."""
    return request.method in ("GET", "HEAD") and request.blueprint not in _LIMITED_READS


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """SQLite: enforce foreign keys, let readers and a writer work at once, wait rather than fail on a lock."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()
