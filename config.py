"""Configuration classes: the only module that reads the environment."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"

DEFAULT_SECRET_KEY = "dev-insecure-change-me"


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


class Config:
    SECRET_KEY = _env("SECRET_KEY", DEFAULT_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'gialam.sqlite'}")
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    # Languages: Vietnamese first, English available.
    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    LANGUAGES = ("vi", "en")
    # Rate limits (Flask-Limiter): in memory by default, Redis when RATELIMIT_STORAGE_URI is set.
    RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = _env("LOGIN_RATE_LIMIT", "5 per minute")
    WEBHOOK_RATE_LIMIT = _env("WEBHOOK_RATE_LIMIT", "600 per minute")
    API_RATE_LIMIT = _env("API_RATE_LIMIT", "100 per second")  # per secret key, like Stripe's
    ONESTOP_LOOKUP_RATE_LIMIT = _env("ONESTOP_LOOKUP_RATE_LIMIT", "30 per minute")  # dossier look-ups by code
    WTF_CSRF_TIME_LIMIT = None  # the session lifetime bounds the token
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    DEMO_PASSWORD = _env("DEMO_PASSWORD", "gialam-demo")
    # Days of made-up fee payments `flask seed-demo` gives each commune (for the charts and the inbox); 0 = none.
    DEMO_PAYMENT_DAYS = _count("DEMO_PAYMENT_DAYS", 14)
    # Months of one-stop dossiers `flask seed-demo` gives the district (about 2,528 a month); 0 = catalogue only.
    DEMO_ONESTOP_MONTHS = _count("DEMO_ONESTOP_MONTHS", 12)
    # The public base URL used in links that leave the request (QR hosted pages, webhooks); None = request host.
    PUBLIC_BASE_URL = _env("PUBLIC_BASE_URL")
    # Payments: bank-notification secrets (a payment account may override them).
    SEPAY_API_KEY = _env("SEPAY_API_KEY")
    SEPAY_WEBHOOK_SECRET = _env("SEPAY_WEBHOOK_SECRET")
    CASSO_CHECKSUM_KEY = _env("CASSO_CHECKSUM_KEY")
    PAYOS_CHECKSUM_KEY = _env("PAYOS_CHECKSUM_KEY")
    PAYMENT_REFERENCE_PREFIX = _env("PAYMENT_REFERENCE_PREFIX", "GL")
    PAYMENT_INTENT_TTL_MINUTES = _count("PAYMENT_INTENT_TTL_MINUTES", 30)
    # Behind a reverse proxy (nginx...): how many proxies to trust for X-Forwarded-For/-Proto/-Host. The login
    # rate limit counts per client address, so this must be right in production.
    TRUSTED_PROXY_COUNT = _count("TRUSTED_PROXY_COUNT", 0)
    # Uploaded files (dossier documents, product images): a folder outside the web root, served only by views that
    # check who asks. See app/storage.py.
    UPLOAD_DIR = _env("UPLOAD_DIR", str(INSTANCE_DIR / "uploads"))
    # PostgreSQL only: row-level security is switched on per transaction for tenant-owned tables.
    ENV_NAME = "base"
    PRODUCTION = False


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    DEBUG = True
    # The demo runs on SQLite with no other service: known secrets make `make run` + simulate-transfer work.
    SEPAY_API_KEY = _env("SEPAY_API_KEY", "demo-sepay-key")
    CASSO_CHECKSUM_KEY = _env("CASSO_CHECKSUM_KEY", "demo-casso-key")
    PAYOS_CHECKSUM_KEY = _env("PAYOS_CHECKSUM_KEY", "demo-payos-key")


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
    DEMO_PAYMENT_DAYS = 0  # seed-demo runs in many tests; tests/test_demo.py seeds the two weeks of payments
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
    """Refuse to start production without a real secret key and an explicit database."""
    if not config.get("PRODUCTION"):
        return
    missing = [env for key, env in (("SECRET_KEY", "SECRET_KEY"), ("SQLALCHEMY_DATABASE_URI", "DATABASE_URL"))
               if not config.get(key)]
    if missing:
        raise RuntimeError(f"Production configuration refuses to start: {', '.join(missing)} must be set.")
    secret = config["SECRET_KEY"]
    if secret in (DEFAULT_SECRET_KEY, TestingConfig.SECRET_KEY) or len(secret) < 32:
        raise RuntimeError(
            "Production configuration refuses to start: SECRET_KEY is a default or shorter than 32 characters."
        )


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_env() -> type[Config]:
    """The configuration named by APP_ENV (development by default)."""
    name = _env("APP_ENV", "development")
    if name not in CONFIGS:
        raise RuntimeError(f"APP_ENV must be one of {', '.join(CONFIGS)}, not {name!r}")
    return CONFIGS[name]
