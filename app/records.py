"""The core's record keeping, wired once by create_app: the audit trail (app/audit), backups and a commune's archive
(app/backup), retention (app/retention). The domains declare what each needs from their packages
(``_declare_records``); this refuses to start when a declaration names what the schema does not have."""

from __future__ import annotations


def init_app(app) -> None:
    from app import audit
    from app.backup import keys
    from app.extensions import db
    from app.retention import check as retention_check

    audit.init_app(app)
    problems = keys.check(db.metadata) + retention_check(db.metadata)
    if problems:
        raise RuntimeError("Record-keeping declarations name what the schema does not have: " + "; ".join(problems))
