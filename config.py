"""Configuration classes: the only module that reads the environment."""

import json
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"

# Secrets that were once constants in this code base or its tests: production refuses them whatever their length.
KNOWN_SECRETS = frozenset({"dev-insecure-change-me", "testing-secret", "demo-sepay-key", "demo-casso-key",
                           "demo-payos-key"})
DEFAULT_SECRET_KEY = "dev-insecure-change-me"  # the old development default, kept only to be refused
DEVELOPMENT_SECRETS_FILE = "development-secrets.json"
# What a development install generates once, randomly, and keeps under instance/ (never constants in code).
DEVELOPMENT_SECRET_NAMES = ("SECRET_KEY", "SEPAY_API_KEY", "CASSO_CHECKSUM_KEY", "PAYOS_CHECKSUM_KEY")
REDIS_SCHEMES = ("redis://", "rediss://", "redis+sentinel://", "redis+cluster://", "unix://")


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _count(name: str, default: int) -> int:
    """A whole number of at least 0 from the environment; anything else stops the start with a clear message."""
    value = _env(name)
    if value is None:
        return default
    if not value.strip().isdecimal():
        raise SystemExit(f"{name} must be a whole number of at least 0, not {value!r}.")
    return int(value)


def _hours(name: str, default: int) -> int:
    value = _count(name, default)
    if value < 1:
        raise SystemExit(f"{name} must be at least 1 hour.")
    return value


class Config:
    SECRET_KEY = _env("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'gialam.sqlite'}")
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    # A request, job or command that loses a deadlock runs again, this many times in all (app/transactions.py).
    TRANSACTION_ATTEMPTS = _count("TRANSACTION_ATTEMPTS", 3)
    # Languages: Vietnamese first, English available.
    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    LANGUAGES = ("vi", "en")
    # Rate limits (Flask-Limiter): in memory for development and tests; production requires Redis (shared by every
    # worker and process).
    RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    # Redis down is no 500: every limit (the API's, the webhooks', the login throttle's) goes on counting in the
    # worker's memory until Redis answers again (docs/decisions.md "When Redis is down").
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # Every Redis command gives up after this long (connecting, or waiting for an answer), without retrying; after a
    # failure commands are refused at once and Redis is asked again in the background every REDIS_RETRY_SECONDS
    # (app/redis_health.py): a Redis that hangs costs one request one timeout, not every request.
    REDIS_TIMEOUT_SECONDS = _count("REDIS_TIMEOUT_MS", 250) / 1000 or 0.25
    REDIS_RETRY_SECONDS = _count("REDIS_RETRY_SECONDS", 10) or 10
    # Failed sign-ins per client address (and per email and address); then per email from all addresses together,
    # refusing only clients that have failed themselves (app/auth/throttle.py). Longer windows slow a patient guesser.
    LOGIN_RATE_LIMIT = _env("LOGIN_RATE_LIMIT", "5 per minute;20 per hour")
    LOGIN_EMAIL_RATE_LIMIT = _env("LOGIN_EMAIL_RATE_LIMIT", "5 per minute;30 per hour")
    WEBHOOK_RATE_LIMIT = _env("WEBHOOK_RATE_LIMIT", "600 per minute")
    API_RATE_LIMIT = _env("API_RATE_LIMIT", "100 per second")  # per secret key, like Stripe's
    API_AUTH_FAILURE_LIMIT = _env("API_AUTH_FAILURE_LIMIT", "20 per minute;100 per hour")  # failed keys per address
    PASSWORD_CHANGE_RATE_LIMIT = _env("PASSWORD_CHANGE_RATE_LIMIT", "5 per 15 minutes")
    RATELIMIT_KEY_PREFIX = _env("RATELIMIT_KEY_PREFIX", "gialam")
    ONESTOP_LOOKUP_RATE_LIMIT = _env("ONESTOP_LOOKUP_RATE_LIMIT", "30 per minute")  # dossier look-ups by code
    # Ratings (attempts, refused ones included): per address, and per dossier whoever sends them (issue 16, item 2)
    ONESTOP_RATING_ADDRESS_LIMIT = _env("ONESTOP_RATING_ADDRESS_LIMIT", "20 per hour")
    ONESTOP_RATING_DOSSIER_LIMIT = _env("ONESTOP_RATING_DOSSIER_LIMIT", "10 per day")
    # Anonymous online dossiers per day (the last 24 hours): per client address and per commune, in dossiers and in
    # bytes of attached files (tenants/onestop/online.py, check_quota).
    ONESTOP_ONLINE_PER_ADDRESS_DAY = _count("ONESTOP_ONLINE_PER_ADDRESS_DAY", 5)
    ONESTOP_ONLINE_BYTES_PER_ADDRESS_DAY = _count("ONESTOP_ONLINE_BYTES_PER_ADDRESS_DAY", 40 * 1024 * 1024)
    ONESTOP_ONLINE_PER_COMMUNE_DAY = _count("ONESTOP_ONLINE_PER_COMMUNE_DAY", 300)
    ONESTOP_ONLINE_BYTES_PER_COMMUNE_DAY = _count("ONESTOP_ONLINE_BYTES_PER_COMMUNE_DAY", 2 * 1024 * 1024 * 1024)
    # "Find my order" (code and phone) per address: the pair could otherwise be guessed at the server's speed.
    ORDER_LOOKUP_RATE_LIMIT = _env("ORDER_LOOKUP_RATE_LIMIT", "10 per minute;60 per hour")
    WTF_CSRF_TIME_LIMIT = None  # the session lifetime bounds the token
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Sessions end (docs/security.md): a signed-in session lasts SESSION_HOURS after the last request and at most
    # SESSION_MAX_HOURS after sign-in; "remember me" (a choice at sign-in) keeps a device signed in REMEMBER_DAYS.
    SESSION_HOURS = _hours("SESSION_HOURS", 8)
    SESSION_MAX_HOURS = _hours("SESSION_MAX_HOURS", 12)
    REMEMBER_DAYS = _count("REMEMBER_DAYS", 14)
    # Request bodies: 1 MB unless a view sets its own explicit limit (app/uploads.py: upload_limit).
    MAX_CONTENT_LENGTH = _count("MAX_CONTENT_LENGTH", 1024 * 1024)
    MAX_FORM_MEMORY_SIZE = 512 * 1024
    # Outgoing webhooks may go only to public addresses; development and tests allow loopback (local receivers).
    ALLOW_LOOPBACK_WEBHOOKS = False
    DEMO_PASSWORD = _env("DEMO_PASSWORD", "gialam-demo")
    # Days of made-up fee payments `flask seed-demo` gives each commune (for the charts and the inbox); 0 = none.
    DEMO_PAYMENT_DAYS = _count("DEMO_PAYMENT_DAYS", 14)
    # Days of made-up market sales (tenants/market/demo.py); 0 = markets and vendors without sales.
    DEMO_MARKET_DAYS = _count("DEMO_MARKET_DAYS", 90)
    # Months of one-stop dossiers `flask seed-demo` gives the district (about 2,528 a month); 0 = the procedures only.
    DEMO_ONESTOP_MONTHS = _count("DEMO_ONESTOP_MONTHS", 12)
    # The public base URL used in links that leave the request (QR hosted pages, webhooks); None = request host
    # (development and tests only: production requires it, and answers only to its host and TRUSTED_HOSTS).
    PUBLIC_BASE_URL = _env("PUBLIC_BASE_URL")
    TRUSTED_HOSTS = _env("TRUSTED_HOSTS")
    # Payments: bank-notification secrets (a payment account may override them).
    SEPAY_API_KEY = _env("SEPAY_API_KEY")
    SEPAY_WEBHOOK_SECRET = _env("SEPAY_WEBHOOK_SECRET")
    CASSO_CHECKSUM_KEY = _env("CASSO_CHECKSUM_KEY")
    PAYOS_CHECKSUM_KEY = _env("PAYOS_CHECKSUM_KEY")
    PAYMENT_REFERENCE_PREFIX = _env("PAYMENT_REFERENCE_PREFIX", "GL")
    PAYMENT_INTENT_TTL_MINUTES = _count("PAYMENT_INTENT_TTL_MINUTES", 30)
    # Notifications (README, "Notifications"): SMTP for e-mail, eSMS.vn for brand-name SMS, Zalo ZNS; a channel
    # without its provider writes to the local outbox page (/dev/outbox) outside production. Communes may store
    # their own SMS brand name and Zalo OA (`flask notify set-secret`), encrypted with NOTIFY_SECRET_KEY (Fernet).
    SMTP_URL = _env("SMTP_URL")
    MAIL_FROM = _env("MAIL_FROM")
    NOTIFY_SECRET_KEY = _env("NOTIFY_SECRET_KEY")
    ESMS_API_KEY = _env("ESMS_API_KEY")
    ESMS_SECRET_KEY = _env("ESMS_SECRET_KEY")
    ESMS_BRANDNAME = _env("ESMS_BRANDNAME")
    ESMS_URL = _env("ESMS_URL")
    ESMS_SANDBOX = _env("ESMS_SANDBOX", "") in ("1", "true")
    ZALO_APP_ID = _env("ZALO_APP_ID")
    ZALO_APP_SECRET = _env("ZALO_APP_SECRET")
    ZALO_ACCESS_TOKEN = _env("ZALO_ACCESS_TOKEN")
    ZALO_REFRESH_TOKEN = _env("ZALO_REFRESH_TOKEN")
    ZALO_URL = _env("ZALO_URL")
    ZALO_TOKEN_URL = _env("ZALO_TOKEN_URL")
    NOTIFY_OUTBOX_PAGE = _env("NOTIFY_OUTBOX_PAGE", "") in ("1", "true")
    NOTIFY_LEASE_SECONDS = _count("NOTIFY_LEASE_SECONDS", 60)  # how long a worker holds a batch it is sending
    # A confirmation by hand the bank has not confirmed after this many days shows in the inbox (docs/payments.md).
    PAYMENT_CLAIM_DAYS = _count("PAYMENT_CLAIM_DAYS", 3)
    # Marketplace: how long a checkout holds the stock (and its VietQR stays payable) before it goes back on sale.
    MARKETPLACE_HOLD_MINUTES = _count("MARKETPLACE_HOLD_MINUTES", 30) or 30
    # Smart market: the most one sale at a stall may be (QR and cash), and the cash amount above which the vendor
    # confirms the sale before it is recorded as paid (#19 item 1: a typo of 1.000.000.000 ₫ doubled the figures).
    MARKET_SALE_CEILING = _count("MARKET_SALE_CEILING", 50_000_000) or 50_000_000
    MARKET_SALE_CONFIRM_ABOVE = _count("MARKET_SALE_CONFIRM_ABOVE", 5_000_000) or 5_000_000
    # ...but only this long until the shopper opens the order's QR codes (then the full hold): a script that checks
    # out and never looks holds nothing for long (#16 item 1).
    MARKETPLACE_FIRST_HOLD_MINUTES = _count("MARKETPLACE_FIRST_HOLD_MINUTES", 10) or 10
    # Units one network address, one phone number and one delivery address may hold unpaid at once, and checkouts
    # per address: one script cannot empty a catalogue (#16 item 1).
    MARKETPLACE_HELD_UNITS_LIMIT = _count("MARKETPLACE_HELD_UNITS_LIMIT", 50) or 50
    CHECKOUT_RATE_LIMIT = _env("CHECKOUT_RATE_LIMIT", "5 per minute;30 per hour")
    # Behind a reverse proxy (nginx...): how many proxies to trust for X-Forwarded-For/-Proto/-Host. The login
    # rate limit counts per client address, so this must be right in production.
    TRUSTED_PROXY_COUNT = _count("TRUSTED_PROXY_COUNT", 0)
    # Uploaded files (dossier documents, product images): a folder outside the web root, served only by views that
    # check who asks. See app/storage.py.
    UPLOAD_DIR = _env("UPLOAD_DIR", str(INSTANCE_DIR / "uploads"))
    # local (the folder above) or s3 (an S3-compatible object store shared by every app server; see app/storage.py).
    STORAGE_BACKEND = _env("STORAGE_BACKEND", "local")
    S3_BUCKET = _env("S3_BUCKET")
    S3_ENDPOINT_URL = _env("S3_ENDPOINT_URL")  # empty for AWS; https://... for MinIO or a Vietnamese cloud's S3
    S3_REGION = _env("S3_REGION")
    S3_ACCESS_KEY_ID = _env("S3_ACCESS_KEY_ID")
    S3_SECRET_ACCESS_KEY = _env("S3_SECRET_ACCESS_KEY")
    S3_PREFIX = _env("S3_PREFIX", "")
    S3_ADDRESSING_STYLE = _env("S3_ADDRESSING_STYLE", "auto")  # "path" for most self-hosted servers
    # Whole-response cache of the public pages that are the same for every visitor (app/cache.py).
    RESPONSE_CACHE = _env("RESPONSE_CACHE", "on") != "off"
    RESPONSE_CACHE_SECONDS = _count("RESPONSE_CACHE_SECONDS", 600)  # a bound on staleness if a bump is ever lost
    # How long a process keeps the generations it read from Redis (or the stamp files) before reading them again
    # (0: on every request): a hit then costs no round trip. A commit made elsewhere shows on the cached pages of
    # this process at most this late; this process's own commits show at once (#17, docs/decisions.md).
    RESPONSE_CACHE_GENERATION_MS = _count("RESPONSE_CACHE_GENERATION_MS", 1000)
    # Load shedding (app/shedding.py, docs/operations.md): a request that waited longer than this in the server's
    # queue (since X-Request-Start, set by nginx or gunicorn.conf.py) gets 503 with Retry-After at once; 0: off.
    SHED_QUEUE_MS = _count("SHED_QUEUE_MS", 2000)
    SHED_RETRY_AFTER = _count("SHED_RETRY_AFTER", 2) or 1  # seconds, in the 503's Retry-After
    SHED_SESSION_QUEUE_MS = _count("SHED_SESSION_QUEUE_MS", 4000)  # the bound for a request with a session (a cart)
    # New work, a shopper's first cart (POST /marketplace/cart/add with no cart in the session), that waited longer
    # than this is admitted only within SHED_NEW_PER_SECOND a second per worker, so that the shoppers already
    # admitted can finish their checkout (#17, docs/operations.md); 0: new carts under the bounds above.
    SHED_NEW_QUEUE_MS = _count("SHED_NEW_QUEUE_MS", 500)
    SHED_NEW_PER_SECOND = _count("SHED_NEW_PER_SECOND", 5)
    # Answers kept per worker: each is a whole page (10-50 KB at national scale), so this bounds a worker's memory
    # (bench/README.md, "Issue #17": 2048 keeps a worker within 150 MB on the scale data).
    RESPONSE_CACHE_SIZE = max(1, _count("RESPONSE_CACHE_SIZE", 2048))
    # The district dashboard's 12-month trend is kept this long (0: computed on every page), shared by the workers
    # through the cache's Redis when there is one. At national scale it is a scan of a year of every commune's
    # records (seconds); the period's figures and table stay live.
    DISTRICT_TREND_SECONDS = _count("DISTRICT_TREND_SECONDS", 600)
    # Where the cache's generation stamp lives: auto = Redis when CACHE_REDIS_URL (or a redis:// rate-limit storage)
    # is set, else a file of the instance folder (the workers of one machine); memory = this process only.
    CACHE_STAMP = _env("CACHE_STAMP", "auto")
    CACHE_REDIS_URL = _env("CACHE_REDIS_URL")
    CACHE_KEY_PREFIX = _env("CACHE_KEY_PREFIX", "gialam:")
    # PostgreSQL only: row-level security is switched on per transaction for tenant-owned tables.
    ENV_NAME = "base"
    PRODUCTION = False


class DevelopmentConfig(Config):
    """Chosen explicitly (`make run` sets APP_ENV=development). Secrets not given in the environment are random per
    install, generated once into instance/development-secrets.json (see ``development_secrets``)."""

    ENV_NAME = "development"
    DEBUG = True
    ALLOW_LOOPBACK_WEBHOOKS = True


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret"
    SQLALCHEMY_DATABASE_URI = _env("TEST_DATABASE_URL", "sqlite://")
    SEPAY_API_KEY = "test-sepay-key"
    SEPAY_WEBHOOK_SECRET = "test-sepay-secret"
    CASSO_CHECKSUM_KEY = "test-casso-key"
    PAYOS_CHECKSUM_KEY = "test-payos-key"
    RATELIMIT_STORAGE_URI = "memory://"
    ALLOW_LOOPBACK_WEBHOOKS = True  # the delivery tests run a receiver on 127.0.0.1; tests/security switch it off
    CACHE_STAMP = "memory"
    RESPONSE_CACHE_GENERATION_MS = 0  # every write shows at once; tests/test_response_cache.py tests the memo
    SHED_QUEUE_MS = 0  # no shedding; tests/test_shedding.py turns it on
    DISTRICT_TREND_SECONDS = 0  # tests see every change at once; tests/district tests the keeping itself
    DEMO_PAYMENT_DAYS = 0  # seed-demo runs in many tests; tests/test_demo.py seeds the two weeks of payments
    DEMO_MARKET_DAYS = 0  # likewise: tests/tenants/market/test_demo.py seeds market sales itself
    DEMO_ONESTOP_MONTHS = 0  # likewise; tests/tenants/onestop/test_demo.py seeds a month


class ProductionConfig(Config):
    ENV_NAME = "production"
    PRODUCTION = True
    SECRET_KEY = _env("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL")
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"


def check_production(config) -> None:
    """Refuse to start production without a real secret key, an explicit database, the public base URL and shared
    rate-limit storage (Redis); demo or test secrets are refused wherever they appear."""
    if not config.get("PRODUCTION"):
        return
    required = (("SECRET_KEY", "SECRET_KEY"), ("SQLALCHEMY_DATABASE_URI", "DATABASE_URL"),
                ("PUBLIC_BASE_URL", "PUBLIC_BASE_URL"))
    missing = [env for key, env in required if not config.get(key)]
    if missing:
        raise RuntimeError(f"Production configuration refuses to start: {', '.join(missing)} must be set.")
    secret = config["SECRET_KEY"]
    if secret in KNOWN_SECRETS or len(secret) < 32:
        raise RuntimeError(
            "Production configuration refuses to start: SECRET_KEY is a default or shorter than 32 characters."
        )
    for name in ("SEPAY_API_KEY", "SEPAY_WEBHOOK_SECRET", "CASSO_CHECKSUM_KEY", "PAYOS_CHECKSUM_KEY"):
        value = config.get(name) or ""
        if value in KNOWN_SECRETS or value.startswith(("test-", "demo-")):
            raise RuntimeError(f"Production configuration refuses to start: {name} is a demo or test value.")
    base = urlsplit(config["PUBLIC_BASE_URL"])
    if base.scheme not in ("http", "https") or not base.hostname or base.path not in ("", "/"):
        raise RuntimeError("Production configuration refuses to start: PUBLIC_BASE_URL must be like "
                           "https://gialam.example.vn (scheme and host, no path).")
    if not str(config.get("RATELIMIT_STORAGE_URI") or "").startswith(REDIS_SCHEMES):
        raise RuntimeError("Production configuration refuses to start: RATELIMIT_STORAGE_URI must name a Redis "
                           "server (redis://...), so that every worker counts the same login attempts.")
    if config.get("ALLOW_LOOPBACK_WEBHOOKS"):
        raise RuntimeError("Production configuration refuses to start: ALLOW_LOOPBACK_WEBHOOKS is for development.")


def trusted_hosts(config) -> list[str] | None:
    """Host names the app answers to: PUBLIC_BASE_URL's host plus TRUSTED_HOSTS (comma-separated); None = any."""
    extra = config.get("TRUSTED_HOSTS") or []
    if isinstance(extra, str):
        extra = extra.split(",")
    hosts = [h.strip() for h in extra if h and h.strip()]
    base = config.get("PUBLIC_BASE_URL")
    if base and urlsplit(base).hostname:
        hosts.insert(0, urlsplit(base).hostname)
    return list(dict.fromkeys(hosts)) or None


def development_secrets(instance_dir: Path = INSTANCE_DIR) -> dict[str, str]:
    """This install's development secrets: random, generated on first use into instance/ (mode 0600), then reused
    so that sessions and the demo's webhook keys survive restarts. Never used by production or tests."""
    path = Path(instance_dir) / DEVELOPMENT_SECRETS_FILE
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        stored = {}
    if not isinstance(stored, dict):
        stored = {}
    missing = [name for name in DEVELOPMENT_SECRET_NAMES if not isinstance(stored.get(name), str) or
               len(stored[name]) < 32]
    if missing:
        for name in missing:
            stored[name] = secrets.token_urlsafe(48 if name == "SECRET_KEY" else 24)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
            json.dump(stored, handle, indent=2)
        os.replace(temporary, path)
    return {name: stored[name] for name in DEVELOPMENT_SECRET_NAMES}


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_env() -> type[Config]:
    """The configuration named by APP_ENV. Unset means production: only `make run` (development) and the tests
    (testing) choose otherwise, explicitly."""
    name = _env("APP_ENV", "production")
    if name not in CONFIGS:
        raise RuntimeError(f"APP_ENV must be one of {', '.join(CONFIGS)}, not {name!r}")
    return CONFIGS[name]
