"""Safe defaults (issue 11, item 1): with APP_ENV unset the production rules apply.

The old development configuration signed sessions with a constant ("dev-insecure-change-me") and accepted
notifications signed with constant demo keys ("demo-sepay-key"...). An unset environment is now production: no
default secret, no demo keys, no debug. Development chooses itself explicitly (`make run`), and its secrets are random
per install, kept under instance/.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

from tests.conftest import TEST_REDIS_URL

from config import DEVELOPMENT_SECRET_NAMES, KNOWN_SECRETS, development_secrets
from tests.security.conftest import REDIS_URL

ROOT = Path(__file__).resolve().parents[2]
GOOD_SECRET = "prod-" + "s" * 43
SETTINGS_FROM_ENV = ("SECRET_KEY", "DATABASE_URL", "APP_ENV", "TEST_DATABASE_URL", "PUBLIC_BASE_URL",
                     "RATELIMIT_STORAGE_URI", "SEPAY_API_KEY", "SEPAY_WEBHOOK_SECRET", "CASSO_CHECKSUM_KEY",
                     "PAYOS_CHECKSUM_KEY", "FLASK_DEBUG", "RATELIMIT_KEY_PREFIX")


def run_default_environment(code: str, **env) -> subprocess.CompletedProcess:
    """Python in a clean process where APP_ENV is not set at all (what `gunicorn wsgi:app` sees by default)."""
    clean = {k: v for k, v in os.environ.items() if k not in SETTINGS_FROM_ENV}
    clean.update({"PYTHONPATH": str(ROOT), **env})
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True,
                          timeout=60)


def forge_session_cookie(secret: str, data: dict) -> str:
    """A Flask session cookie signed with ``secret``, exactly as Flask signs its own."""
    interface = SecureCookieSessionInterface()
    serializer = URLSafeTimedSerializer(secret, salt=interface.salt, serializer=interface.serializer,
                                        signer_kwargs={"key_derivation": "hmac", "digest_method": interface.digest_method})
    return serializer.dumps(data)


def test_an_unset_app_env_is_production_and_refuses_to_start_without_secrets():
    result = run_default_environment("from wsgi import app")
    assert result.returncode != 0
    assert "Production configuration refuses to start" in result.stderr
    assert "SECRET_KEY" in result.stderr and "DATABASE_URL" in result.stderr and "PUBLIC_BASE_URL" in result.stderr


def test_an_unset_app_env_never_runs_debug_nor_accepts_demo_keys(tmp_path):
    code = ("from wsgi import app; c = app.config; "
            "print(c['ENV_NAME'], c['DEBUG'], c['SEPAY_API_KEY'], c['CASSO_CHECKSUM_KEY'], c['PAYOS_CHECKSUM_KEY'])")
    result = run_default_environment(code, SECRET_KEY=GOOD_SECRET, DATABASE_URL=f"sqlite:///{tmp_path / 'p.db'}",
                                     PUBLIC_BASE_URL="https://gialam.example.vn",
                                     RATELIMIT_STORAGE_URI=TEST_REDIS_URL)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["production", "False", "None", "None", "None"]


@pytest.mark.parametrize("secret", sorted(KNOWN_SECRETS))
def test_no_secret_that_was_ever_in_the_code_starts_production(tmp_path, secret):
    result = run_default_environment("from wsgi import app", SECRET_KEY=secret,
                                     DATABASE_URL=f"sqlite:///{tmp_path / 'p.db'}",
                                     PUBLIC_BASE_URL="https://gialam.example.vn",
                                     RATELIMIT_STORAGE_URI=TEST_REDIS_URL)
    assert result.returncode != 0 and "SECRET_KEY is a default" in result.stderr


FORGERY = """
import json, sys
from wsgi import app
cookies = json.loads(sys.argv[1])
client = app.test_client()
results = {}
for name, value in cookies.items():
    client.set_cookie("session", value, domain="gialam.example.vn")
    answer = client.get("/home", base_url="https://gialam.example.vn")
    results[name] = [answer.status_code, answer.headers.get("Location", "")]
sepay = client.post("/webhooks/sepay", base_url="https://gialam.example.vn", data=b"{}",
                    headers={"Authorization": "Apikey demo-sepay-key", "Content-Type": "application/json"})
results["sepay-demo-key"] = [sepay.status_code, ""]
print(json.dumps(results))
"""


def test_a_cookie_forged_with_the_development_secret_is_refused_under_the_default_environment(database, make,
                                                                                              redis_prefix):
    """The district admin's session, forged with the old development secret, signs nobody in; the same cookie
    signed with the real secret does (so the refusal is the signature's, not a broken cookie). A SePay
    notification with the old demo key is not authenticated."""
    admin = make.user("district@gialam.vn", "district_admin")
    claims = {"_user_id": admin.get_id(), "_fresh": True, "signed_in_at": __import__("time").time()}
    cookies = {"forged": forge_session_cookie("dev-insecure-change-me", claims),
               "genuine": forge_session_cookie(GOOD_SECRET, claims)}
    result = run_default_environment(
        f"import sys; sys.argv = ['x', {json.dumps(json.dumps(cookies))}]\n" + FORGERY,
        SECRET_KEY=GOOD_SECRET, DATABASE_URL=database["app_url"], PUBLIC_BASE_URL="https://gialam.example.vn",
        RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_KEY_PREFIX=redis_prefix)
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    assert answers["forged"][0] == 302 and "/login" in answers["forged"][1]
    assert answers["genuine"][0] == 302 and answers["genuine"][1].endswith("/district/")
    assert answers["sepay-demo-key"][0] == 401


def test_development_secrets_are_random_per_install_and_kept(tmp_path):
    first = development_secrets(tmp_path / "one")
    assert development_secrets(tmp_path / "one") == first  # kept across restarts
    other = development_secrets(tmp_path / "two")
    assert set(first) == set(DEVELOPMENT_SECRET_NAMES)
    for name in DEVELOPMENT_SECRET_NAMES:
        assert len(first[name]) >= 32 and first[name] != other[name] and first[name] not in KNOWN_SECRETS
    path = tmp_path / "one" / "development-secrets.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["SECRET_KEY"] == first["SECRET_KEY"]


def test_the_development_app_uses_the_install_secrets_unless_the_environment_gives_them(tmp_path, monkeypatch):
    import app as app_package
    from app import create_app

    monkeypatch.setattr(app_package, "INSTANCE_DIR", tmp_path)
    monkeypatch.setenv("APP_ENV", "development")
    dev = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    stored = json.loads((tmp_path / "development-secrets.json").read_text())
    assert dev.config["ENV_NAME"] == "development" and dev.debug
    for name in DEVELOPMENT_SECRET_NAMES:
        assert dev.config[name] == stored[name]
    given = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "from-the-environment-" + "x" * 20})
    assert given.config["SECRET_KEY"].startswith("from-the-environment-")


def test_no_secret_constant_is_left_in_the_development_configuration():
    source = (ROOT / "config.py").read_text(encoding="utf-8")
    development = source[source.index("class DevelopmentConfig"):source.index("class TestingConfig")]
    assert "SECRET_KEY" not in development and "demo-" not in development and "_KEY =" not in development


def test_seed_demo_prints_this_installs_webhook_keys(app, runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert f"SEPAY_API_KEY={app.config['SEPAY_API_KEY']}" in result.output
    assert f"CASSO_CHECKSUM_KEY={app.config['CASSO_CHECKSUM_KEY']}" in result.output


def test_make_chooses_the_configuration_explicitly():
    """`make run` (and its steps) run development, `make test` testing; `make -pn` prints without running."""
    database = subprocess.run(["make", "-pn", "-f", "Makefile", "__nothing__"], cwd=ROOT, capture_output=True,
                              text=True, env={k: v for k, v in os.environ.items() if k != "APP_ENV"}).stdout
    for target in ("run", "migrate", "seed", "serve"):
        assert f"{target}: APP_ENV ?= development" in database or f"{target}: APP_ENV = development" in database
    for target in ("test", "e2e"):
        assert f"{target}: APP_ENV = testing" in database
