"""The audit trail: who changed what, when, from which address, before and after; append-only, in one tamper-evident
chain per commune (and one for the district). Rules and operations: docs/operations.md, "Audit trail".

Domains declare their audited tables with ``track`` (registry.py); actions that change no row are recorded with
``record``; commands and jobs name themselves with ``acting_as``. Pages: views.py; ``flask audit verify``: cli.py.
"""

from __future__ import annotations

from app.audit.context import Actor, acting_as, current_actor  # noqa: F401
from app.audit.registry import MASK, personal_data, track, tracked, tracked_tables, untrack  # noqa: F401
from app.audit.trail import record  # noqa: F401


def init_app(app) -> None:
    """Check the domains' declarations against the schema, mount the pages, and record sign-ins and sign-outs."""
    from flask_login import user_logged_in, user_logged_out

    from app.audit import registry, views
    from app.extensions import db

    problems = registry.check(db.metadata)
    if problems:
        raise RuntimeError("Audit declarations name what the schema does not have: " + "; ".join(problems))
    app.register_blueprint(views.bp)
    app.register_blueprint(views.district_bp)
    user_logged_in.connect(_signed_in, app)
    user_logged_out.connect(_signed_out, app)


def _home_commune(user) -> int | None:
    """The commune whose trail tells of a user's sign-in: their one commune, else the district's trail."""
    communes = {m.tenant_id for m in user.memberships}
    return communes.pop() if len(communes) == 1 and None not in communes else None


def _signed_in(sender, user, **extra) -> None:
    from flask import request

    record("sign_in", table="users", record_id=user.id, tenant_id=_home_commune(user),
           actor=Actor.of_user(user, (request.remote_addr or "")[:45] or None))


def _signed_out(sender, user, **extra) -> None:
    from flask import request

    if getattr(user, "is_authenticated", False):
        record("sign_out", table="users", record_id=user.id, tenant_id=_home_commune(user),
               actor=Actor.of_user(user, (request.remote_addr or "")[:45] or None))
