"""The templates' ``_()`` without Flask-Babel's walk through its proxies on every call (issue #17: about 10 µs a
string, 20-40 strings a page). Flask-Babel remembers the request's locale and domain on ``g._flask_babel`` after its
first look-up and caches each language's catalogue on the domain; this reads them straight from the application
context, and asks Flask-Babel whenever anything is not there yet (first call, outside a request, after
``refresh()``, a ``force_locale`` block sets them as Flask-Babel would read them)."""

from __future__ import annotations

from functools import cached_property

from flask.globals import _cv_app
from flask_babel import Babel, Domain, get_translations


def translations():
    """What ``flask_babel.get_translations()`` answers, read directly when Flask-Babel already knows it."""
    ctx = _cv_app.get(None)
    if ctx is not None:
        ns = ctx.g.__dict__.get("_flask_babel")
        if ns is not None:
            known = ns.__dict__
            domain, locale = known.get("babel_domain"), known.get("babel_locale")
            if domain is not None and locale is not None:
                found = domain.get_translations_cache(ns).get((str(locale), domain.domain[0]))
                if found is not None:
                    return found
    return get_translations()


def _known(domain: Domain):
    """The catalogue Flask-Babel has cached for ``domain`` in the request's locale, or None when it does not know it
    yet (no request, locale not chosen yet, catalogue not loaded yet)."""
    ctx = _cv_app.get(None)
    if ctx is not None:
        ns = ctx.g.__dict__.get("_flask_babel")
        if ns is not None:
            locale = ns.__dict__.get("babel_locale")
            if locale is not None:
                return domain.get_translations_cache(ns).get((str(locale), domain.domain[0]))
    return None


class CatalogueDomain(Domain):
    """Flask-Babel's domain, reading the request's cached catalogue directly once Flask-Babel has loaded it (#17):
    every ``gettext`` in Python and every lazy string (form labels, status names: 20-40 a page) went through
    Flask-Babel's context and locale look-ups, about 10 proxy accesses each. Anything not known yet: Flask-Babel's
    own ``get_translations`` (which loads and caches it)."""

    def get_translations(self):
        found = _known(self)
        return found if found is not None else super().get_translations()


class CatalogueBabel(Babel):
    """Flask-Babel with ``CatalogueDomain`` as its default domain."""

    @cached_property
    def domain_instance(self):
        return CatalogueDomain(domain=self.domain)


def install(app) -> None:
    """Replace the gettext callables Flask-Babel installed in the templates by ones reading ``translations()``."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
    )
