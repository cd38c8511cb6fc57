"""The register's pictures: relic photos, artefact photos, stele rubbings and a relic's 360° photo, through the core
image pipeline (app/images.py) under ``heritage/<tenant>/<relic-12|artefact-3|stele-5>/``. Flush only; the files of
a picture taken off a record are deleted by the caller once that is committed."""

from __future__ import annotations

import io

from flask_babel import lazy_gettext as _l
from PIL import Image

from app import images
from app.errors import ValidationError
from app.extensions import db
from tenants.heritage.models import Artefact, Relic, Stele

AREA = "heritage"
MAX_PHOTOS = 12
PANORAMA_MAX_BYTES = 15 * 1024 * 1024
PANORAMA_SIZE = 4096  # the longer side of a stored panorama (an equirectangular photo is twice as wide as high)
PANORAMA_THUMB = 800


def owner_key(record) -> str:
    """The storage owner of a record's pictures: "relic-12", "artefact-3", "stele-5"."""
    return {Relic: "relic", Artefact: "artefact", Stele: "stele"}[type(record)] + f"-{record.id}"


def _pictures_attribute(record) -> str:
    return "rubbings" if isinstance(record, Stele) else "photos"


def add_picture(record, data: bytes) -> str:
    """Add a photo (a relic's, an artefact's) or a rubbing (a stele's) through the image pipeline; its name."""
    attribute = _pictures_attribute(record)
    current = list(getattr(record, attribute) or [])
    if len(current) >= MAX_PHOTOS:
        raise ValidationError(_l("%(n)s pictures at most: remove one first.", n=MAX_PHOTOS), field="image")
    name, full, thumb = images.prepare(data)
    if name not in current:
        images.store(AREA, record.tenant_id, owner_key(record), name, full, thumb)
        setattr(record, attribute, [*current, name])
        db.session.flush()
    return name


def remove_picture(record, name: str) -> bool:
    """Take a picture off the record (its files are deleted by the caller after the commit); False if not there."""
    attribute = _pictures_attribute(record)
    current = list(getattr(record, attribute) or [])
    if name not in current:
        return False
    setattr(record, attribute, [n for n in current if n != name])
    db.session.flush()
    return True


def picture_keys(record, name: str) -> list[str]:
    return [images.key(AREA, record.tenant_id, owner_key(record), name, size) for size in images.SIZES]


def set_panorama(relic: Relic, data: bytes) -> str | None:
    """Store a 360° photo (equirectangular, about twice as wide as high); returns the name it replaces, if any."""
    name, full, thumb = images.prepare(data, max_bytes=PANORAMA_MAX_BYTES, full_size=PANORAMA_SIZE,
                                       thumb_size=PANORAMA_THUMB)
    width, height = Image.open(io.BytesIO(full)).size
    if not 1.6 <= width / height <= 2.4:
        raise ValidationError(_l("A 360° photo is about twice as wide as it is high (an equirectangular panorama)."),
                              field="image")
    replaced = relic.panorama if relic.panorama != name else None
    images.store(AREA, relic.tenant_id, owner_key(relic), name, full, thumb)
    relic.panorama = name
    db.session.flush()
    return replaced


def remove_panorama(relic: Relic) -> str | None:
    name, relic.panorama = relic.panorama, None
    db.session.flush()
    return name


def all_keys(record) -> list[str]:
    """Every stored file of a record's pictures (and of a relic's 360° photo)."""
    names = list(getattr(record, _pictures_attribute(record)) or [])
    if isinstance(record, Relic) and record.panorama:
        names.append(record.panorama)
    return [key for name in names for key in picture_keys(record, name)]
