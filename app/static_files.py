"""Static files with long-lived caching: every ``url_for('static', filename=...)`` carries ``?v=<digest of the
file>``, and a request naming the current digest is answered with ``Cache-Control: public, max-age=31536000,
immutable``. A changed file gets a new URL, so browsers and proxies never keep an old stylesheet; a URL without
(or with an old) version is revalidated every time (``no-cache`` with an ETag), as before.

In production nginx serves /static/ itself with the same rule (deploy/nginx.conf); Flask's own answer is the same.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, request

ONE_YEAR = 31_536_000


def init_app(app: Flask) -> None:
    digests: dict[str, str | None] = {}
    folder = Path(app.static_folder)

    def digest(filename: str) -> str | None:
        if filename not in digests or app.debug:  # in debug, edits show without a restart
            path = (folder / filename).resolve()
            try:
                inside = path.is_relative_to(folder.resolve()) and path.is_file()
                digests[filename] = hashlib.sha256(path.read_bytes()).hexdigest()[:12] if inside else None
            except OSError:
                digests[filename] = None
        return digests[filename]

    @app.url_defaults
    def add_version(endpoint, values):
        if endpoint == "static" and "v" not in values and values.get("filename"):
            version = digest(values["filename"])
            if version:
                values["v"] = version

    @app.after_request
    def cache_versioned(response):
        if request.endpoint == "static" and response.status_code in (200, 304):
            version = request.args.get("v")
            filename = (request.view_args or {}).get("filename")
            if version and filename and version == digest(filename):
                response.cache_control.public = True
                response.cache_control.max_age = ONE_YEAR
                response.cache_control.immutable = True
                response.cache_control.no_cache = None
        return response
