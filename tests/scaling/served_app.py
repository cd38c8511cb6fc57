"""The application as each of the two test app servers runs it (gunicorn 'tests.scaling.served_app:app').

Settings come from GIALAM_TEST_SETTINGS (JSON) over TestingConfig, so both processes share one database, one Redis
and one file store exactly as two production app servers would. Two test-only routes write and read an upload
through app/storage.py (the domains' upload views are not in this tree): what one server stores, the other serves.
A third tells which release a worker loaded (GIALAM_TEST_RELEASE_FILE, read when the worker imports this module)
and its process id, for the reload test (tests/scaling/test_serving.py).
"""

from __future__ import annotations

import json
import os

from flask import Blueprint, abort, request

from app import create_app, storage

app = create_app(json.loads(os.environ["GIALAM_TEST_SETTINGS"]))
_release_file = os.environ.get("GIALAM_TEST_RELEASE_FILE")
RELEASE = open(_release_file, encoding="utf-8").read().strip() if _release_file else ""

uploads = Blueprint("test_uploads", __name__, url_prefix="/_test/uploads")


@uploads.post("/<path:key>")
def put(key: str):
    storage.save(key, request.get_data())
    return {"stored": key}, 201


@uploads.get("/<path:key>")
def get(key: str):
    try:
        return storage.load(key), 200, {"Content-Type": "application/octet-stream"}
    except FileNotFoundError:
        abort(404)


@uploads.get("/release")
def release():
    return {"release": RELEASE, "pid": os.getpid()}


@uploads.get("/slow")
def slow():
    """Holds its thread for ?seconds= (tests/test_shedding.py saturates a one-thread worker with it)."""
    import time

    time.sleep(min(float(request.args.get("seconds", "1")), 5))
    return {"slept": True}


app.register_blueprint(uploads)
from app.extensions import csrf  # noqa: E402

csrf.exempt(uploads)

