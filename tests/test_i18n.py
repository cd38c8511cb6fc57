"""Translations: Vietnamese is complete and is the default; English falls back to the (English) msgids.

The catalog work lives in scripts/i18n.py (extract / compile / check); these tests call it directly.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.support import NullTranslations, Translations

ROOT = Path(__file__).resolve().parent.parent


def _load_i18n():
    spec = importlib.util.spec_from_file_location("gialam_i18n_script", ROOT / "scripts" / "i18n.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


i18n = _load_i18n()

# Compile while the tests are collected, before any test of the session renders a page: Flask-Babel caches the
# catalog of a locale for the life of the process, so a page rendered before the .mo exists would stick to the
# msgids. (The `compiled` fixture also empties that cache, for the tests here.)
i18n.compile_catalogs()


@pytest.fixture
def compiled(app):
    i18n.compile_catalogs()
    with app.app_context():
        from flask_babel import get_babel

        get_babel(app).instance.domain_instance.cache.clear()
    return app


# ------------------------------------------------------------------------------------------------ (a) check


def test_every_extracted_message_is_translated_into_vietnamese():
    problems = i18n.check_catalogs(fresh=True)
    assert not problems, "Untranslated or fuzzy in vi (run `python scripts/i18n.py extract`, then translate):\n" + "\n".join(problems)


def test_vietnamese_catalog_declares_its_plural_forms():
    catalog = i18n._read(i18n.po_path("vi"), "vi")
    assert catalog.plural_forms == "nplurals=1; plural=0;"


def test_check_reports_missing_fuzzy_empty_and_broken_placeholders():
    template = Catalog()
    for msgid in ("Sign in", "Save", "Delete", "Welcome, %(name)s.", "Officer", "Draft"):
        template.add(msgid)
    catalog = Catalog(locale="vi")
    catalog.add("Sign in", "Đăng nhập")
    catalog.add("Save", "Lưu", flags=["fuzzy"])
    catalog.add("Delete", "")
    catalog.add("Welcome, %(name)s.", "Xin chào %(ten)s.")
    catalog.add("Draft", "Nháp 100%")
    problems = "\n".join(i18n._problems(template, catalog))
    assert "'Sign in'" not in problems
    assert "fuzzy" in problems and "'Save'" in problems
    assert "untranslated 'Delete'" in problems
    assert "bad format  'Welcome, %(name)s.'" in problems
    assert "missing     'Officer'" in problems
    assert "'Draft'" in problems


# ------------------------------------------------------------------------------------------------ (b) compile


def test_compile_writes_a_catalog_that_gettext_reads(tmp_path):
    written = i18n.compile_catalogs(tmp_path)
    assert written == [tmp_path / "vi" / "LC_MESSAGES" / "messages.mo"]
    translations = Translations.load(str(tmp_path), ["vi"], "messages")
    assert isinstance(translations, Translations)
    assert translations.gettext("Sign in") == "Đăng nhập"
    assert translations.gettext("Welcome, %(name)s.") % {"name": "An"} == "Xin chào An."
    # Every translated message of the .po made it into the .mo.
    po = i18n._read(i18n.po_path("vi"), "vi")
    lost = [m.id for m in po if m.id and m.string and not m.fuzzy and not m.pluralizable and not m.context
            and translations.gettext(m.id) != m.string]
    assert not lost
    # Idempotent.
    assert i18n.compile_catalogs(tmp_path) == written


def test_compiled_catalog_is_where_flask_babel_looks(app):
    assert i18n.mo_path("vi").exists()
    with app.app_context():
        from flask_babel import get_babel

        assert str(i18n.TRANSLATIONS_DIR) in [str(Path(d)) for d in get_babel(app).translation_directories]


def test_english_needs_no_catalog():
    assert not (i18n.TRANSLATIONS_DIR / "en").exists()
    assert isinstance(Translations.load(str(i18n.TRANSLATIONS_DIR), ["en"], "messages"), NullTranslations)


# ------------------------------------------------------------------------------------------------ (c) the app


def test_landing_page_is_vietnamese_by_default(compiled, client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="vi">' in html
    assert "Đăng nhập" in html
    assert "Bộ phận Một cửa" in html
    assert ">Sign in<" not in html


def test_landing_page_is_english_after_switching_language(compiled, client):
    assert "Đăng nhập" in client.get("/").get_data(as_text=True)
    switch = client.get("/lang/en")
    assert switch.status_code == 302
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Sign in" in html
    assert "One-stop office" in html
    assert "Đăng nhập" not in html
    # And back.
    client.get("/lang/vi")
    assert "Đăng nhập" in client.get("/").get_data(as_text=True)


def test_lang_query_parameter_selects_english(compiled, client):
    html = client.get("/?lang=en").get_data(as_text=True)
    assert "Sign in" in html and "Đăng nhập" not in html


def test_python_messages_with_placeholders_in_both_languages(compiled):
    from flask_babel import force_locale, gettext, lazy_gettext

    with compiled.test_request_context("/"):
        with force_locale("vi"):
            assert gettext("Welcome, %(name)s.", name="Lan") == "Xin chào Lan."
            assert str(lazy_gettext("Password")) == "Mật khẩu"
        with force_locale("en"):
            assert gettext("Welcome, %(name)s.", name="Lan") == "Welcome, Lan."
            assert str(lazy_gettext("Password")) == "Password"
