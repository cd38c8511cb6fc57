"""Tenancy: the Tenant model, per-request resolution and the one scoping mechanism for tenant-owned data."""


def _declare_records() -> None:
    """The audit trail records the communes themselves (status, reorganisation), each in its own trail."""
    from flask_babel import lazy_gettext as _l

    from app import audit

    audit.track("tenants", _l("Commune"), commune="id")


_declare_records()
