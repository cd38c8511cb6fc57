"""The heritage register of a commune: relics with their festivals, artefacts, steles and Hán-Nôm documents, audio
guides, the QR boards at the relics and the count of their scans.

Every table is tenant-owned; foreign keys between them include tenant_id, so no row can point into another commune.
Pictures are content hashes of the core image pipeline (app/images.py), kept in JSON lists as products keep theirs.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db, one_of
from tenants.heritage.kinds import DOCUMENT_KINDS, LANGUAGES, RANKINGS, RELIC_KINDS
from tenants.scoping import RemembersOrigin, TenantScoped


def _relic_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["tenant_id", "relic_id"], ["heritage_relics.tenant_id", "heritage_relics.id"],
                                ondelete="CASCADE")


class Relic(TenantScoped, RemembersOrigin, db.Model):
    """A relic (di tích) of the commune's register, with its public page."""

    __tablename__ = "heritage_relics"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        CheckConstraint(one_of("kind", tuple(RELIC_KINDS)), name="kind"),
        CheckConstraint(one_of("ranking", tuple(RANKINGS)), name="ranking"),
        CheckConstraint("latitude IS NULL OR (latitude BETWEEN -90 AND 90)", name="latitude"),
        CheckConstraint("longitude IS NULL OR (longitude BETWEEN -180 AND 180)", name="longitude"),
        Index("ix_heritage_relics_tenant_name", "tenant_id", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(20))
    ranking: Mapped[str] = mapped_column(String(20), default="none")
    ranked_year: Mapped[int | None] = mapped_column(Integer)
    address: Mapped[str] = mapped_column(String(300), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    summary: Mapped[str] = mapped_column(Text, default="")  # what to see, in Vietnamese
    summary_en: Mapped[str] = mapped_column(Text, default="")
    history: Mapped[str] = mapped_column(Text, default="")
    history_en: Mapped[str] = mapped_column(Text, default="")
    photos: Mapped[list] = mapped_column(JSON, default=list)
    panorama: Mapped[str | None] = mapped_column(String(64))  # a 360° equirectangular photo's name
    published: Mapped[bool] = mapped_column(Boolean, default=True)
    demo: Mapped[bool] = mapped_column(Boolean, default=False)  # made-up demo text, labelled as such
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 onupdate=func.now())

    def text(self, field: str, language: str) -> tuple[str, str]:
        """(the text of ``field`` in ``language``, the language it is really in): English falls back to Vietnamese."""
        if language != "vi":
            translated = getattr(self, f"{field}_en", "")
            if translated:
                return translated, language
        return getattr(self, field), "vi"


class Festival(TenantScoped, db.Model):
    """A relic's festival (lễ hội), on a day of the lunar calendar; its solar date is computed each year."""

    __tablename__ = "heritage_festivals"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        _relic_fk(),
        CheckConstraint("lunar_month BETWEEN 1 AND 12", name="lunar_month"),
        CheckConstraint("lunar_day BETWEEN 1 AND 30", name="lunar_day"),
        CheckConstraint("days BETWEEN 1 AND 15", name="days"),
        Index("ix_heritage_festivals_tenant_relic", "tenant_id", "relic_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    relic_id: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    lunar_month: Mapped[int] = mapped_column(Integer)
    lunar_day: Mapped[int] = mapped_column(Integer)
    days: Mapped[int] = mapped_column(Integer, default=1)
    description: Mapped[str] = mapped_column(Text, default="")


class Artefact(TenantScoped, RemembersOrigin, db.Model):
    """An artefact (hiện vật) inventoried at a relic, under the commune's inventory number."""

    __tablename__ = "heritage_artefacts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "inventory_number"),
        _relic_fk(),
        Index("ix_heritage_artefacts_tenant_relic", "tenant_id", "relic_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    relic_id: Mapped[int] = mapped_column(Integer)
    inventory_number: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    material: Mapped[str] = mapped_column(String(120), default="")
    period: Mapped[str] = mapped_column(String(120), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    photos: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Stele(TenantScoped, RemembersOrigin, db.Model):
    """A stele (bia) or a Hán-Nôm document of a relic: its original text, transcription, translation, rubbings."""

    __tablename__ = "heritage_steles"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        _relic_fk(),
        CheckConstraint(one_of("kind", tuple(DOCUMENT_KINDS)), name="kind"),
        Index("ix_heritage_steles_tenant_relic", "tenant_id", "relic_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    relic_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20), default="stele")
    title: Mapped[str] = mapped_column(String(200))
    period: Mapped[str] = mapped_column(String(120), default="")
    original_text: Mapped[str] = mapped_column(Text, default="")  # chữ Hán or chữ Nôm, as engraved or written
    transcription: Mapped[str] = mapped_column(Text, default="")  # phiên âm
    translation: Mapped[str] = mapped_column(Text, default="")  # dịch nghĩa, in Vietnamese
    rubbings: Mapped[list] = mapped_column(JSON, default=list)  # pictures of the rubbings (thác bản)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AudioGuide(TenantScoped, db.Model):
    """An uploaded recording of a relic's guide in one language (at most one per language)."""

    __tablename__ = "heritage_audio_guides"
    __table_args__ = (
        UniqueConstraint("tenant_id", "relic_id", "language"),
        _relic_fk(),
        CheckConstraint(one_of("language", tuple(LANGUAGES)), name="language"),
        CheckConstraint("size_bytes > 0", name="size"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    relic_id: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(5))
    name: Mapped[str] = mapped_column(String(64))  # content hash: the storage key's last part
    mimetype: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[int] = mapped_column(Integer, default=0)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Board(TenantScoped, RemembersOrigin, db.Model):
    """A QR board put up at a relic: numbered in the commune; its QR opens the relic's page through the scan count."""

    __tablename__ = "heritage_boards"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "number"),
        _relic_fk(),
        CheckConstraint("number > 0", name="number"),
        Index("ix_heritage_boards_tenant_relic", "tenant_id", "relic_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    relic_id: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    narration: Mapped[bool] = mapped_column(Boolean, default=True)  # the board invites visitors to the audio guide
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # False: taken down (its scans stay in the figures)
    installed_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class BoardScan(TenantScoped, RemembersOrigin, db.Model):
    """How many visits scanned a board on a (Vietnamese) day: a count, and nothing about who scanned."""

    __tablename__ = "heritage_board_scans"
    __table_args__ = (
        PrimaryKeyConstraint("tenant_id", "board_id", "day"),
        ForeignKeyConstraint(["tenant_id", "board_id"], ["heritage_boards.tenant_id", "heritage_boards.id"],
                             ondelete="CASCADE"),
        CheckConstraint("scans > 0", name="scans"),
        Index("ix_heritage_board_scans_tenant_day", "tenant_id", "day"),
    )

    board_id: Mapped[int] = mapped_column(Integer)
    day: Mapped[date] = mapped_column(Date)
    scans: Mapped[int] = mapped_column(Integer, default=1)
