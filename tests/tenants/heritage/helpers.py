"""Small factories for heritage tests: records made through the services, committed, their ids returned."""

from __future__ import annotations

import io
import math
import struct
import wave

from PIL import Image

from app.extensions import db
from tenants.heritage import services
from tenants.scoping import tenant_context

RELIC = {"name": "Đình Giang Cao", "name_en": "Giang Cao communal house", "kind": "dinh", "ranking": "national",
         "ranked_year": 1991, "address": "Thôn Giang Cao, Bát Tràng", "latitude": "20.9731", "longitude": "105.9139",
         "summary": "Đình thờ Thành hoàng làng. Mái đình cong vút.", "summary_en": "The village's guardian spirit.",
         "history": "Đình được dựng từ thời Lê.", "history_en": "", "published": True}


def make_relic(app, tenant, **values) -> int:
    with app.app_context(), tenant_context(tenant):
        relic = services.create_relic({**RELIC, **values})
        db.session.commit()
        return relic.id


def make_board(app, tenant, relic_id: int, number: int | None = None, narration: bool = True) -> int:
    with app.app_context(), tenant_context(tenant):
        board = services.create_board(relic_id, number, narration)
        db.session.commit()
        return board.id


def make_artefact(app, tenant, relic_id: int, number: str = "BT-001", name: str = "Bát hương gốm") -> int:
    with app.app_context(), tenant_context(tenant):
        artefact = services.create_artefact(relic_id, {"inventory_number": number, "name": name, "material": "Gốm",
                                                       "period": "Thế kỷ XVIII", "description": "Men lam."})
        db.session.commit()
        return artefact.id


def make_stele(app, tenant, relic_id: int, title: str = "Bia Hậu thần") -> int:
    with app.app_context(), tenant_context(tenant):
        stele = services.create_stele(relic_id, {"kind": "stele", "title": title, "period": "Cảnh Hưng 12 (1751)",
                                                 "original_text": "後神碑記", "transcription": "Hậu thần bi ký",
                                                 "translation": "Bài ký trên bia Hậu thần"})
        db.session.commit()
        return stele.id


def make_festival(app, tenant, relic_id: int, month: int = 2, day: int = 14, days: int = 3) -> int:
    with app.app_context(), tenant_context(tenant):
        festival = services.add_festival(relic_id, "Hội làng", "Village festival", month, day, days)
        db.session.commit()
        return festival.id


def heritage_records(app, tenant) -> dict[str, int]:
    """One record of every kind the heritage routes take by id, in ``tenant`` (the isolation sweep's)."""
    relic_id = make_relic(app, tenant, published=False)
    return {"relic_id": relic_id, "board_id": make_board(app, tenant, relic_id),
            "artefact_id": make_artefact(app, tenant, relic_id), "stele_id": make_stele(app, tenant, relic_id),
            "festival_id": make_festival(app, tenant, relic_id)}


def picture(width: int = 640, height: int = 480, color: str = "#7a3e18", kind: str = "JPEG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, kind)
    return out.getvalue()


def wav(seconds: float = 1.0, rate: int = 8000) -> bytes:
    """A short tone as WAV (PCM): audio every browser plays."""
    out = io.BytesIO()
    with wave.open(out, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(rate)
        sound.writeframes(b"".join(struct.pack("<h", int(6000 * math.sin(2 * math.pi * 440 * i / rate)))
                                   for i in range(int(rate * seconds))))
    return out.getvalue()


def mp3(frames: int = 40) -> bytes:
    """Silent MPEG-1 layer III frames (128 kbit/s, 44.1 kHz): about one second."""
    return (b"\xff\xfb\x90\x64" + b"\x00" * 413) * frames
