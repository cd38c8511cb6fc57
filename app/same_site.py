"""Token-less form endpoints (the marketplace cart: its forms carry no CSRF token so catalogue pages stay the same
for every visitor) refuse requests another site makes a browser send (#16 item 5).

A browser says where a request comes from: ``Sec-Fetch-Site`` (every current browser) or ``Origin`` (on every POST
of the others). A cross-site POST arrives without the session cookie (SameSite=Lax); served, it would start a new
session whose Set-Cookie replaces the victim's, signing out a signed-in officer. Refused here, before the view reads
or writes the session, with a bare 403 that sets no cookie. A request naming neither header (a script, curl) has no
victim's cookie to replace and is served.
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import Response, request
from flask_babel import gettext as _

SAME = ("same-origin", "none")  # "none": typed in the address bar, a bookmark


def is_cross_site() -> bool:
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site:
        return fetch_site.strip().lower() not in SAME
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    parts = urlsplit(origin.strip())
    return not (parts.scheme == request.scheme and parts.netloc.lower() == request.host.lower())


def same_site_only(view):
    """Serve ``view`` to this site's own pages only (see the module's docstring)."""

    @wraps(view)
    def guarded(*args, **kwargs):
        if is_cross_site():
            response = Response(_("This form can only be sent from this site's own pages."), status=403,
                                mimetype="text/plain")
            response.headers["Cache-Control"] = "no-store"
            return response
        return view(*args, **kwargs)

    return guarded
