"""The templates' _() reads the request's catalogue directly (app/jinja_gettext.py, issue #17): it must answer
what Flask-Babel answers, for every message, in each language, under force_locale and outside a request."""

from __future__ import annotations

import pytest
from babel.messages.pofile import read_po
from flask import render_template_string
from flask_babel import force_locale, get_translations, refresh

from app import jinja_gettext

PO = "app/translations/{}/LC_MESSAGES/messages.po"


def _messages() -> list[str]:
    with open(PO.format("vi"), "rb") as po:
        return [m.id for m in read_po(po) if m.id and isinstance(m.id, str)]


@pytest.mark.parametrize("language", ["vi", "en"])
def test_every_message_translates_as_flask_babel_does(app, language):
    messages = _messages()
    assert len(messages) > 200
    with app.test_request_context("/", headers={"Accept-Language": language}):
        from flask import session

        session["lang"] = language
        refresh()
        assert jinja_gettext.translations() is get_translations()
        for msgid in messages:
            assert jinja_gettext.translations().ugettext(msgid) == get_translations().ugettext(msgid)
        other = "en" if language == "vi" else "vi"
        with force_locale(other):
            assert jinja_gettext.translations() is get_translations()
            assert jinja_gettext.translations().ugettext("Sign in") == get_translations().ugettext("Sign in")
        assert jinja_gettext.translations() is get_translations()


def test_templates_render_the_same_as_with_flask_babels_callables(app):
    source = '{{ _("Sign in") }}|{{ _("Marketplace") }}|{{ ngettext("%(num)d day", "%(num)d days", 3) }}'
    with app.test_request_context("/"):
        fast = render_template_string(source)
        with force_locale("en"):
            fast_en = render_template_string(source)
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: get_translations().ugettext(s),
        ngettext=lambda s, p, n: get_translations().ungettext(s, p, n), newstyle=True)
    try:
        with app.test_request_context("/"):
            slow = render_template_string(source)
            with force_locale("en"):
                slow_en = render_template_string(source)
    finally:
        jinja_gettext.install(app)
    assert (fast, fast_en) == (slow, slow_en)
    assert fast != fast_en


def test_outside_a_request(app):
    with app.app_context():
        assert jinja_gettext.translations() is get_translations()
    assert jinja_gettext.translations().ugettext("Sign in") == "Sign in"  # no context: the null catalogue


def _flask_babels(domain):
    """What Flask-Babel's own Domain answers (the straightforward look-up CatalogueDomain shortcuts)."""
    from flask_babel import Domain

    return Domain.get_translations(domain)


@pytest.mark.parametrize("language", ["vi", "en"])
def test_gettext_and_lazy_strings_translate_as_flask_babels_domain(app, language):
    """Python's gettext and the lazy strings (form labels, statuses) read the cached catalogue through
    CatalogueDomain: the same catalogue, hence the same text, as Flask-Babel's Domain, first call, every message,
    under force_locale, after refresh()."""
    from flask_babel import get_domain, gettext, lazy_gettext, pgettext

    from tenants.onestop import statuses

    messages = _messages()
    with app.test_request_context("/"):
        from flask import session

        session["lang"] = language
        refresh()
        domain = get_domain()
        assert isinstance(domain, jinja_gettext.CatalogueDomain)
        assert domain.get_translations() is _flask_babels(domain)  # the first call loads through Flask-Babel
        for msgid in messages:
            assert gettext(msgid) == _flask_babels(domain).ugettext(msgid)
            assert str(lazy_gettext(msgid)) == _flask_babels(domain).ugettext(msgid)
        for status in statuses.ALL:
            assert str(status.label) == _flask_babels(domain).upgettext("dossier status", status.label._args[1])
        other = "en" if language == "vi" else "vi"
        with force_locale(other):
            assert domain.get_translations() is _flask_babels(domain)
            assert gettext("Sign in") == _flask_babels(domain).ugettext("Sign in")
        assert domain.get_translations() is _flask_babels(domain)
        assert pgettext("dossier status", "Registered") == _flask_babels(domain).upgettext("dossier status",
                                                                                        "Registered")
    assert (gettext("Sign in"), str(lazy_gettext("Sign in"))) == ("Sign in", "Sign in")  # outside: no catalogue
