"""Request-body limits (docs/security.md).

Every request body is limited by ``MAX_CONTENT_LENGTH`` (1 MB by default: a form, a JSON call); a larger body is
answered 413 before it is read. A view that takes bigger uploads says so explicitly with ``upload_limit``, which
raises the limit for that view alone; the statement import is the first one, and later ones (dossier documents,
product images) follow the same pattern:

    @bp.route("/.../documents", methods=["POST"])
    @commune_staff_required(...)
    @upload_limit(DOCUMENT_MAX_BYTES)
    def upload_document(): ...

The limit must be in place before anything reads the form, CSRF protection included (it reads the form in a
``before_request`` hook): ``init_app`` registers a hook, ahead of the extensions', that applies the limit the
matched view declares. It is the limit of the whole body (the file plus the form's other fields and multipart framing), so give it a
margin over the largest file accepted.
"""

from __future__ import annotations

from functools import wraps

from flask import Flask, current_app, request

MULTIPART_MARGIN = 64 * 1024  # the form's other fields and multipart framing around the file


def upload_limit(max_bytes: int):
    """Allow this view a request body of ``max_bytes`` (plus the multipart margin) instead of MAX_CONTENT_LENGTH."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            _apply(max_bytes)
            return view(*args, **kwargs)

        wrapped.upload_limit = max_bytes  # copied onto outer decorators by functools.wraps
        return wrapped

    return decorator


def _apply(max_bytes: int) -> None:
    request.max_content_length = max_bytes + MULTIPART_MARGIN


def _before_request() -> None:
    view = current_app.view_functions.get(request.endpoint or "")
    limit = getattr(view, "upload_limit", None)
    if limit:
        _apply(limit)


def init_app(app: Flask) -> None:
    """Call before the extensions are initialised, so this hook runs before CSRF protection reads the form."""
    app.before_request(_before_request)
