"""The register's rules: relics and their festivals, artefacts, steles and documents, pictures and audio guides,
boards, and the count of a board's scans. Services flush; the request's unit of work commits (app/transactions.py).

Queries here carry no tenant filter: the scoping mechanism adds it (tenants/scoping.py), so another commune's record
is not found (NotFound, a 404).
"""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app import storage, transactions
from app.errors import Conflict, NotFound, ValidationError
from app.extensions import db
from app.text import normalize
from tenants.heritage import audio, pictures
from tenants.heritage.kinds import DOCUMENT_KINDS, LANGUAGES, RANKINGS, RELIC_KINDS
from tenants.heritage.models import AudioGuide, Artefact, Board, BoardScan, Festival, Relic, Stele

AREA = pictures.AREA  # the storage area of the register's pictures and recordings


def _text(value: str | None, limit: int | None = None, field: str | None = None, label=None) -> str:
    """User text as stored: NFC, stripped, without NUL characters (PostgreSQL text cannot hold them)."""
    value = normalize(value).replace("\x00", "")
    if limit is not None and len(value) > limit:
        raise ValidationError(_l("%(what)s is too long (%(n)s characters at most).", what=label, n=limit), field=field)
    return value


def _required(value: str | None, limit: int, field: str, label) -> str:
    value = _text(value, limit, field, label)
    if not value:
        raise ValidationError(_l("Enter %(what)s.", what=label), field=field)
    return value


def _get(model, record_id: int, message):
    # A query, not Session.get: the identity map must never hand back a row the scoping would filter out.
    record = db.session.scalar(select(model).where(model.id == record_id))
    if record is None:
        raise NotFound(message)
    return record


# --- relics ------------------------------------------------------------------------------------------------------

def get_relic(relic_id: int) -> Relic:
    return _get(Relic, relic_id, _l("No such relic."))


def _coordinate(value, low: float, high: float, field: str) -> float | None:
    if value in (None, ""):
        return None
    try:
        number = float(str(value).replace(",", "."))
    except ValueError:
        number = None
    if number is None or not low <= number <= high or number != number:
        raise ValidationError(_l("Enter a position in decimal degrees, as a map shows it (21.0245, 105.9312)."),
                              field=field)
    return round(number, 6)


def _relic_values(values: dict) -> dict:
    kind, ranking = values.get("kind"), values.get("ranking") or "none"
    if kind not in RELIC_KINDS:
        raise ValidationError(_l("Choose the kind of relic from the list."), field="kind")
    if ranking not in RANKINGS:
        raise ValidationError(_l("Choose the ranking from the list."), field="ranking")
    year = values.get("ranked_year")
    if year in ("", None) or ranking == "none":
        year = None
    elif not isinstance(year, int) or not 1962 <= year <= 2100:  # the first rankings were made in 1962
        raise ValidationError(_l("Enter the year of the ranking (1962 or later)."), field="ranked_year")
    latitude = _coordinate(values.get("latitude"), -90, 90, "latitude")
    longitude = _coordinate(values.get("longitude"), -180, 180, "longitude")
    if (latitude is None) != (longitude is None):
        raise ValidationError(_l("Enter both the latitude and the longitude, or neither."), field="latitude")
    return {
        "name": _required(values.get("name"), 200, "name", _l("the relic's name")),
        "name_en": _text(values.get("name_en"), 200, "name_en", _l("The English name")),
        "kind": kind, "ranking": ranking, "ranked_year": year,
        "address": _text(values.get("address"), 300, "address", _l("The address")),
        "latitude": latitude, "longitude": longitude,
        "summary": _text(values.get("summary"), 20_000, "summary", _l("What to see")),
        "summary_en": _text(values.get("summary_en"), 20_000, "summary_en", _l("What to see")),
        "history": _text(values.get("history"), 50_000, "history", _l("The history")),
        "history_en": _text(values.get("history_en"), 50_000, "history_en", _l("The history")),
        "published": bool(values.get("published", True)),
    }


def create_relic(values: dict) -> Relic:
    relic = Relic(**_relic_values(values), photos=[])
    db.session.add(relic)
    db.session.flush()
    return relic


def update_relic(relic_id: int, values: dict) -> Relic:
    relic = get_relic(relic_id)
    for name, value in _relic_values(values).items():
        setattr(relic, name, value)
    db.session.flush()
    return relic


def delete_relic(relic_id: int) -> list[str]:
    """Remove a relic and what is recorded of it; refused while it has boards (their scans are the figures' history:
    take them down instead). Returns the storage keys to delete once the removal is committed."""
    relic = get_relic(relic_id)
    if db.session.scalar(select(func.count()).select_from(Board).where(Board.relic_id == relic.id)):
        raise Conflict(_l("This relic has QR boards: unpublish it instead of deleting it."))
    keys = pictures.all_keys(relic)
    for artefact in db.session.scalars(select(Artefact).where(Artefact.relic_id == relic.id)):
        keys += pictures.all_keys(artefact)
    for stele in db.session.scalars(select(Stele).where(Stele.relic_id == relic.id)):
        keys += pictures.all_keys(stele)
    keys += [audio_key(relic.tenant_id, relic.id, guide.name)
             for guide in db.session.scalars(select(AudioGuide).where(AudioGuide.relic_id == relic.id))]
    db.session.delete(relic)  # festivals, artefacts, steles and audio guides go with it (ON DELETE CASCADE)
    db.session.flush()
    return keys


# --- festivals ---------------------------------------------------------------------------------------------------

def add_festival(relic_id: int, name: str, name_en: str, lunar_month, lunar_day, days=1,
                 description: str = "") -> Festival:
    relic = get_relic(relic_id)
    if not isinstance(lunar_month, int) or not 1 <= lunar_month <= 12:
        raise ValidationError(_l("The lunar month is a number from 1 to 12."), field="lunar_month")
    if not isinstance(lunar_day, int) or not 1 <= lunar_day <= 30:
        raise ValidationError(_l("The lunar day is a number from 1 to 30."), field="lunar_day")
    if not isinstance(days, int) or not 1 <= days <= 15:
        raise ValidationError(_l("A festival lasts from 1 to 15 days."), field="days")
    festival = Festival(relic_id=relic.id, name=_required(name, 200, "name", _l("the festival's name")),
                        name_en=_text(name_en, 200, "name_en", _l("The English name")), lunar_month=lunar_month,
                        lunar_day=lunar_day, days=days,
                        description=_text(description, 5_000, "description", _l("The description")))
    db.session.add(festival)
    db.session.flush()
    return festival


def get_festival(festival_id: int) -> Festival:
    return _get(Festival, festival_id, _l("No such festival."))


def delete_festival(festival_id: int) -> int:
    festival = get_festival(festival_id)
    relic_id = festival.relic_id
    db.session.delete(festival)
    db.session.flush()
    return relic_id


# --- artefacts ---------------------------------------------------------------------------------------------------

def get_artefact(artefact_id: int) -> Artefact:
    return _get(Artefact, artefact_id, _l("No such artefact."))


def _artefact_values(values: dict, artefact_id: int | None) -> dict:
    number = _required(values.get("inventory_number"), 40, "inventory_number", _l("the inventory number"))
    taken = select(Artefact.id).where(Artefact.inventory_number == number)
    if artefact_id is not None:
        taken = taken.where(Artefact.id != artefact_id)
    if db.session.scalar(taken) is not None:
        raise Conflict(_l("Inventory number %(number)s is already given to another artefact.", number=number),
                       field="inventory_number")
    return {
        "inventory_number": number,
        "name": _required(values.get("name"), 200, "name", _l("the artefact's name")),
        "material": _text(values.get("material"), 120, "material", _l("The material")),
        "period": _text(values.get("period"), 120, "period", _l("The period")),
        "description": _text(values.get("description"), 20_000, "description", _l("The description")),
    }


def _flush_unique(message, field: str) -> None:
    """Flush in a savepoint: a unique key taken by a concurrent transaction is a Conflict, not a 500."""
    try:
        with transactions.savepoint():
            db.session.flush()
    except IntegrityError:
        raise Conflict(message, field=field) from None


def create_artefact(relic_id: int, values: dict) -> Artefact:
    relic = get_relic(relic_id)
    artefact = Artefact(relic_id=relic.id, photos=[], **_artefact_values(values, None))
    db.session.add(artefact)
    _flush_unique(_l("This inventory number was just given to another artefact."), "inventory_number")
    return artefact


def update_artefact(artefact_id: int, values: dict) -> Artefact:
    artefact = get_artefact(artefact_id)
    for name, value in _artefact_values(values, artefact.id).items():
        setattr(artefact, name, value)
    _flush_unique(_l("This inventory number was just given to another artefact."), "inventory_number")
    return artefact


def delete_artefact(artefact_id: int) -> tuple[int, list[str]]:
    artefact = get_artefact(artefact_id)
    keys = pictures.all_keys(artefact)
    relic_id = artefact.relic_id
    db.session.delete(artefact)
    db.session.flush()
    return relic_id, keys


# --- steles and documents ----------------------------------------------------------------------------------------

def get_stele(stele_id: int) -> Stele:
    return _get(Stele, stele_id, _l("No such stele or document."))


def _stele_values(values: dict) -> dict:
    kind = values.get("kind") or "stele"
    if kind not in DOCUMENT_KINDS:
        raise ValidationError(_l("Choose a stele or a document."), field="kind")
    return {
        "kind": kind,
        "title": _required(values.get("title"), 200, "title", _l("the title")),
        "period": _text(values.get("period"), 120, "period", _l("The period")),
        "original_text": _text(values.get("original_text"), 50_000, "original_text", _l("The original text")),
        "transcription": _text(values.get("transcription"), 50_000, "transcription", _l("The transcription")),
        "translation": _text(values.get("translation"), 50_000, "translation", _l("The translation")),
    }


def create_stele(relic_id: int, values: dict) -> Stele:
    relic = get_relic(relic_id)
    stele = Stele(relic_id=relic.id, rubbings=[], **_stele_values(values))
    db.session.add(stele)
    db.session.flush()
    return stele


def update_stele(stele_id: int, values: dict) -> Stele:
    stele = get_stele(stele_id)
    for name, value in _stele_values(values).items():
        setattr(stele, name, value)
    db.session.flush()
    return stele


def delete_stele(stele_id: int) -> tuple[int, list[str]]:
    stele = get_stele(stele_id)
    keys = pictures.all_keys(stele)
    relic_id = stele.relic_id
    db.session.delete(stele)
    db.session.flush()
    return relic_id, keys


# --- audio guides ------------------------------------------------------------------------------------------------

def audio_key(tenant_id: int, relic_id: int, name: str) -> str:
    return f"{AREA}/{tenant_id}/relic-{relic_id}/audio-{name}"


def _language(language: str | None) -> str:
    if language not in LANGUAGES:
        raise ValidationError(_l("Choose the recording's language."), field="language")
    return language


def set_audio(relic_id: int, language: str, data: bytes) -> str | None:
    """Store the relic's recording in ``language`` (checked by its content); returns the key of the recording it
    replaces, to delete after the commit."""
    relic = get_relic(relic_id)
    language = _language(language)
    recording = audio.check(data)
    guide = db.session.scalar(select(AudioGuide).where(AudioGuide.relic_id == relic.id,
                                                       AudioGuide.language == language))
    replaced = None
    if guide is None:
        guide = AudioGuide(relic_id=relic.id, language=language)
        db.session.add(guide)
    elif guide.name != recording.name:
        replaced = audio_key(relic.tenant_id, relic.id, guide.name)
    guide.name, guide.mimetype = recording.name, recording.mimetype
    guide.size_bytes, guide.seconds = len(recording.data), recording.seconds
    storage.save(audio_key(relic.tenant_id, relic.id, recording.name), recording.data)
    _flush_unique(_l("A recording in this language was just uploaded: try again."), "audio")
    return replaced


def remove_audio(relic_id: int, language: str) -> str | None:
    relic = get_relic(relic_id)
    guide = db.session.scalar(select(AudioGuide).where(AudioGuide.relic_id == relic.id,
                                                       AudioGuide.language == _language(language)))
    if guide is None:
        return None
    db.session.delete(guide)
    db.session.flush()
    return audio_key(relic.tenant_id, relic.id, guide.name)


def audio_guide(relic_id: int, language: str) -> AudioGuide | None:
    return db.session.scalar(select(AudioGuide).where(AudioGuide.relic_id == relic_id,
                                                      AudioGuide.language == language))


# --- boards ------------------------------------------------------------------------------------------------------

def get_board(board_id: int) -> Board:
    return _get(Board, board_id, _l("No such board."))


def next_board_number() -> int:
    return (db.session.scalar(select(func.max(Board.number))) or 0) + 1


def create_board(relic_id: int, number: int | None = None, narration: bool = True,
                 installed_on: date | None = None) -> Board:
    """A new board at a relic, numbered in the commune (the next free number unless one is given)."""
    relic = get_relic(relic_id)
    if number is None:
        number = next_board_number()
    if not isinstance(number, int) or not 1 <= number <= 99_999:
        raise ValidationError(_l("A board number is a whole number from 1 to 99999."), field="number")
    if db.session.scalar(select(Board.id).where(Board.number == number)) is not None:
        raise Conflict(_l("Board number %(number)s is already used in this commune.", number=number), field="number")
    board = Board(relic_id=relic.id, number=number, narration=bool(narration), installed_on=installed_on,
                  active=True)
    db.session.add(board)
    _flush_unique(_l("This board number was just used: try again."), "number")
    return board


def set_board_active(board_id: int, active: bool) -> Board:
    board = get_board(board_id)
    board.active = active
    db.session.flush()
    return board


def record_scan(board: Board, day: date) -> None:
    """Count one visit's scan of ``board`` on ``day`` (a Vietnamese calendar day). An UPDATE adds one to the day's
    row; the day's first scan inserts it in a savepoint, and when a concurrent first scan inserted it meanwhile,
    the UPDATE runs again: no scan is lost and no lock is held beyond the row's own."""
    def bump() -> int:
        return db.session.execute(
            update(BoardScan).where(BoardScan.board_id == board.id, BoardScan.day == day)
            .values(scans=BoardScan.scans + 1).execution_options(synchronize_session=False)
        ).rowcount

    if bump():
        return
    try:
        with transactions.savepoint():
            db.session.add(BoardScan(board_id=board.id, day=day, scans=1))
            db.session.flush()
    except IntegrityError:
        if not bump():  # pragma: no cover - the row that collided exists now
            raise
