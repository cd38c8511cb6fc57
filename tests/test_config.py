"""Configuration: production refuses to start without a real secret and an explicit database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TEST_REDIS_URL

from config import DEFAULT_SECRET_KEY, ProductionConfig, check_production

ROOT = Path(__file__).resolve().parent.parent
GOOD_SECRET = "k3Y-" + "x" * 36  # 40 characters
REDIS_URI = TEST_REDIS_URL  # production requires Redis limit storage; nothing is written at start
SETTINGS_FROM_ENV = ("SECRET_KEY", "DATABASE_URL", "APP_ENV", "TEST_DATABASE_URL", "PUBLIC_BASE_URL",
                     "RATELIMIT_STORAGE_URI", "TRUSTED_HOSTS", "SEPAY_API_KEY", "SEPAY_WEBHOOK_SECRET",
                     "CASSO_CHECKSUM_KEY", "PAYOS_CHECKSUM_KEY")
PRODUCTION_SERVICES = {"PUBLIC_BASE_URL": "https://gialam.example.vn", "RATELIMIT_STORAGE_URI": REDIS_URI}


def start_wsgi(tmp_path, code: str = "from wsgi import app", **env) -> subprocess.CompletedProcess:
    """Import wsgi.py the way gunicorn does, in a clean process with exactly the given settings (APP_ENV=production
    unless given; ``APP_ENV=None`` leaves it unset). The public URL and Redis are given unless overridden."""
    clean = {k: v for k, v in os.environ.items() if k not in SETTINGS_FROM_ENV}
    clean.update({"APP_ENV": "production", "PYTHONPATH": str(ROOT), **PRODUCTION_SERVICES, **env})
    clean = {k: v for k, v in clean.items() if v is not None}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True,
                          timeout=60)


@pytest.fixture
def database_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'prod.sqlite'}"


def test_production_without_secret_key_refuses_to_start(tmp_path, database_url):
    result = start_wsgi(tmp_path, DATABASE_URL=database_url)
    assert result.returncode != 0
    assert "Production configuration refuses to start: SECRET_KEY must be set." in result.stderr


def test_production_without_database_url_refuses_to_start(tmp_path):
    result = start_wsgi(tmp_path, SECRET_KEY=GOOD_SECRET)
    assert result.returncode != 0
    assert "DATABASE_URL must be set" in result.stderr


def test_production_with_the_default_secret_refuses_to_start(tmp_path, database_url):
    result = start_wsgi(tmp_path, SECRET_KEY=DEFAULT_SECRET_KEY, DATABASE_URL=database_url)
    assert result.returncode != 0
    assert "SECRET_KEY is a default or shorter than 32 characters" in result.stderr


def test_production_with_a_short_secret_refuses_to_start(tmp_path, database_url):
    result = start_wsgi(tmp_path, SECRET_KEY="too-short-a-secret", DATABASE_URL=database_url)
    assert result.returncode != 0
    assert "shorter than 32 characters" in result.stderr


def test_production_with_a_real_secret_starts_with_secure_cookies(tmp_path, database_url):
    code = ("from wsgi import app; c = app.config; "
            "print(c['PRODUCTION'], c['SESSION_COOKIE_SECURE'], c['REMEMBER_COOKIE_SECURE'], c['DEBUG'])")
    result = start_wsgi(tmp_path, code, SECRET_KEY=GOOD_SECRET, DATABASE_URL=database_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "True", "False"]


def test_unknown_app_env_is_refused_with_a_clear_message(tmp_path):
    result = start_wsgi(tmp_path, APP_ENV="staging")
    assert result.returncode != 0
    assert "APP_ENV must be one of" in result.stderr


@pytest.mark.parametrize("name", ["PAYMENT_INTENT_TTL_MINUTES", "TRUSTED_PROXY_COUNT", "DEMO_PAYMENT_DAYS"])
@pytest.mark.parametrize("value", ["thirty", "-1", "1.5", "²"])
def test_a_number_setting_that_is_not_a_whole_number_is_refused_clearly(tmp_path, database_url, name, value):
    result = start_wsgi(tmp_path, SECRET_KEY=GOOD_SECRET, DATABASE_URL=database_url, **{name: value})
    assert result.returncode != 0
    assert f"{name} must be a whole number of at least 0, not '{value}'." in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"SECRET_KEY": None, "SQLALCHEMY_DATABASE_URI": "sqlite://"}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": GOOD_SECRET, "SQLALCHEMY_DATABASE_URI": None}, "DATABASE_URL must be set"),
        ({"SECRET_KEY": DEFAULT_SECRET_KEY, "SQLALCHEMY_DATABASE_URI": "sqlite://"}, "default"),
        ({"SECRET_KEY": "testing-secret", "SQLALCHEMY_DATABASE_URI": "sqlite://"}, "default"),
        ({"SECRET_KEY": "x" * 31, "SQLALCHEMY_DATABASE_URI": "sqlite://"}, "shorter than 32"),
        ({"SECRET_KEY": GOOD_SECRET, "SQLALCHEMY_DATABASE_URI": "sqlite://", "PUBLIC_BASE_URL": None},
         "PUBLIC_BASE_URL must be set"),
        ({"SECRET_KEY": GOOD_SECRET, "SQLALCHEMY_DATABASE_URI": "sqlite://", "PUBLIC_BASE_URL": "gialam.vn"},
         "PUBLIC_BASE_URL must be like"),
        ({"SECRET_KEY": GOOD_SECRET, "SQLALCHEMY_DATABASE_URI": "sqlite://", "RATELIMIT_STORAGE_URI": "memory://"},
         "must name a Redis server"),
        ({"SECRET_KEY": GOOD_SECRET, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SEPAY_API_KEY": "demo-sepay-key"},
         "SEPAY_API_KEY is a demo or test value"),
        ({"SECRET_KEY": GOOD_SECRET, "SQLALCHEMY_DATABASE_URI": "sqlite://", "ALLOW_LOOPBACK_WEBHOOKS": True},
         "ALLOW_LOOPBACK_WEBHOOKS is for development"),
    ],
)
def test_check_production_refuses_weak_settings(settings, message):
    with pytest.raises(RuntimeError, match=message):
        check_production({"PRODUCTION": True, **PRODUCTION_SERVICES, **settings})


def test_check_production_accepts_a_real_secret_and_ignores_non_production():
    check_production({"PRODUCTION": True, "SECRET_KEY": GOOD_SECRET, "SQLALCHEMY_DATABASE_URI": "sqlite://",
                      **PRODUCTION_SERVICES})
    check_production({"PRODUCTION": False, "SECRET_KEY": None, "SQLALCHEMY_DATABASE_URI": None})


def test_production_app_sends_hsts_and_secure_cookies(tmp_path, monkeypatch):
    import app as app_package
    from app import create_app

    # In this process the limiter (one object) stays in memory; the processes started above check Redis.
    monkeypatch.setattr(app_package, "check_production", lambda config: None)
    settings = {key: getattr(ProductionConfig, key) for key in dir(ProductionConfig) if key.isupper()}
    settings.update(SECRET_KEY=GOOD_SECRET, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'p.sqlite'}",
                    **{**PRODUCTION_SERVICES, "RATELIMIT_STORAGE_URI": "memory://"})
    app = create_app(settings)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    response = app.test_client().get("/healthz", base_url="https://gialam.example.vn")
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_testing_app_does_not_send_hsts(client):
    assert "Strict-Transport-Security" not in client.get("/healthz").headers


def test_behind_a_trusted_proxy_the_login_limit_counts_the_real_client(app):
    """With TRUSTED_PROXY_COUNT, X-Forwarded-For names the client: one client's failures do not lock out another."""
    from app import create_app

    proxied = create_app({**app.config, "TRUSTED_PROXY_COUNT": 1, "WTF_CSRF_ENABLED": False})
    client = proxied.test_client()

    def attempt(ip):
        return client.post("/login", data={"email": f"nobody-{ip}@x.vn", "password": "wrong-password"},
                           headers={"X-Forwarded-For": ip})

    assert [attempt("203.0.113.7").status_code for _ in range(5)] == [401] * 5
    assert attempt("203.0.113.7").status_code == 429
    assert attempt("198.51.100.9").status_code == 401  # another client behind the same proxy is not locked out


def test_the_redis_timeouts_come_from_the_environment_and_reach_both_redis_clients(tmp_path, database_url):
    """REDIS_TIMEOUT_MS and REDIS_RETRY_SECONDS shape the limits' storage and the cache stamp alike: short timeouts,
    no retries, the breaker (app/redis_health.py)."""
    code = (
        "from wsgi import app\n"
        "from app.extensions import limiter\n"
        "stamp = app.extensions['response_cache'].stamp\n"
        "for pool in (limiter.storage.storage.connection_pool, stamp.client.connection_pool):\n"
        "    kw = pool.connection_kwargs\n"
        "    print(kw['socket_timeout'], kw['socket_connect_timeout'], kw['retry'].get_retries(),\n"
        "          pool.connection_class.retry_seconds, pool.connection_class.__mro__[1].__name__)\n"
    )
    result = start_wsgi(tmp_path, code, SECRET_KEY=GOOD_SECRET, DATABASE_URL=database_url, REDIS_TIMEOUT_MS="120",
                        REDIS_RETRY_SECONDS="3")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines() == ["0.12 0.12 0 3.0 GuardedConnection"] * 2


@pytest.mark.parametrize(("given", "kept"), [(None, 2048), ("2048", 2048), ("0", 1)])
def test_the_response_cache_s_size_comes_from_the_environment(tmp_path, database_url, given, kept):
    """RESPONSE_CACHE_SIZE bounds the answers each worker keeps, so its memory (bench/README.md, "Issue #17")."""
    code = "from wsgi import app\nprint(app.extensions['response_cache'].store.entries.maxsize)\n"
    result = start_wsgi(tmp_path, code, SECRET_KEY=GOOD_SECRET, DATABASE_URL=database_url, RESPONSE_CACHE_SIZE=given)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == [str(kept)]
