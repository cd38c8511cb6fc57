"""Tenant registry rules: creating communes, deactivating them, loading the district's units from data. Services
flush; the caller's unit of work commits (app/transactions.py)."""

from __future__ import annotations

import json
from importlib import resources

from flask_babel import lazy_gettext as _l

from app.errors import Conflict, NotFound, ValidationError
from app.extensions import db
from app.text import clean_tax_code, normalize, slugify
from tenants.models import KINDS, Tenant
from tenants.queries import get_by_slug


def load_units() -> dict:
    """The Gia Lâm units shipped with the project (copied from the shared data)."""
    return json.loads(resources.files("app").joinpath("data/gia_lam_units.json").read_text(encoding="utf-8"))


def create_tenant(
    name: str,
    kind: str,
    code: str,
    slug: str | None = None,
    district_name: str = "Gia Lâm",
    district_code: str = "018",
    province_name: str = "Hà Nội",
) -> Tenant:
    name = normalize(name)
    slug = normalize(slug) or slugify(name)
    if not name:
        raise ValidationError(_l("Enter a name."), field="name")
    if kind not in KINDS:
        raise ValidationError(_l("The kind must be xã, thị trấn or phường."), field="kind")
    if not (len(code) == 5 and code.isdigit()):
        raise ValidationError(_l("The statistics code has 5 digits."), field="code")
    if not slug or slug != slugify(slug):  # a name of no letters or digits gives no slug: /c// is no address
        raise ValidationError(_l("The slug may hold only lowercase letters, digits and hyphens."), field="slug")
    if get_by_slug(slug) is not None:
        raise Conflict(_l("A commune with this slug already exists."), field="slug")
    tenant = Tenant(
        slug=slug,
        name=name,
        kind=kind,
        code=code,
        district_name=district_name,
        district_code=district_code,
        province_name=province_name,
        status="active",
    )
    db.session.add(tenant)
    db.session.flush()
    return tenant


def set_tax_code(slug: str, tax_code: str) -> Tenant:
    """The commune's tax code, as its fee receipts print it (Decree 123/2020): 10 digits, or 10-3 for a dependent
    unit (13 digits typed without the hyphen are stored with it). Flushes."""
    tenant = get_by_slug(slug)
    if tenant is None:
        raise NotFound(_l("No such commune."))
    tenant.tax_code = clean_tax_code(tax_code, required=True)  # the one rule (app/text.py)
    db.session.flush()
    return tenant


def set_status(slug: str, status: str) -> Tenant:
    tenant = get_by_slug(slug)
    if tenant is None:
        raise NotFound(_l("No such commune."))
    if status not in ("active", "inactive"):
        raise ValidationError(_l("Unknown status."))
    tenant.status = status
    db.session.flush()
    return tenant
