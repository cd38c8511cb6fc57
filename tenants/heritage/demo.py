"""The heritage demo, after the district's report: 287 relics across the 22 units with their artefacts inventoried,
a few steles and Hán-Nôm documents, 125 QR boards (the 20 put up in 2024 invite visitors to the audio guide), a
festival per relic, and half a year of scan counts. Names follow the usual patterns of the district's villages; the
text is made up, plausible, and every relic is marked as demo data (``Relic.demo``; the page says so).

Written in bulk (Core multi-row INSERTs across communes) so the first ``make run`` stays quick; drawn from a
generator with a fixed seed: the same demo on every machine.
"""

from __future__ import annotations

import hashlib
import io
import random
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import func, insert, select

from app import images
from app.extensions import db
from tenants.heritage import pictures
from tenants.heritage.models import Artefact, Board, BoardScan, Festival, Relic, Stele
from tenants.models import Tenant
from tenants.scoping import all_tenants

RELICS = 287
BOARDS = 125
NARRATED_2024 = 20
STELES = 36
PANORAMAS = 5  # the main relics' 360° photos (generated, honestly labelled pictures)

HAMLETS = ("Đông", "Đoài", "Thượng", "Hạ", "Trung", "Nam", "Bắc", "Giang", "Cao", "Tiền", "Hậu", "Lãm", "Quán")
KINDS = (  # (kind, name pattern, weight)
    ("dinh", "Đình {place}", 4), ("chua", "Chùa {place}", 4), ("den", "Đền {place}", 1), ("mieu", "Miếu {place}", 2),
    ("nha_tho_ho", "Nhà thờ họ {family} {place}", 2), ("van_chi", "Văn chỉ {place}", 1),
)
FAMILIES = ("Nguyễn", "Lê", "Trần", "Phạm", "Đỗ", "Ngô", "Vũ", "Đặng", "Bùi", "Phùng")
PERIODS = ("Thời Lê sơ", "Thời Mạc", "Thời Lê trung hưng", "Thời Tây Sơn", "Thời Nguyễn", "Thế kỷ XVII",
           "Thế kỷ XVIII", "Thế kỷ XIX", "Đầu thế kỷ XX")
ARTEFACTS = (  # (name, material)
    ("Bát hương", "Gốm men lam"), ("Long ngai", "Gỗ sơn son thếp vàng"), ("Bài vị", "Gỗ sơn son thếp vàng"),
    ("Hoành phi", "Gỗ sơn son thếp vàng"), ("Câu đối", "Gỗ sơn son thếp vàng"), ("Đỉnh đồng", "Đồng"),
    ("Chuông đồng", "Đồng"), ("Khánh đá", "Đá xanh"), ("Kiệu bát cống", "Gỗ sơn son thếp vàng"),
    ("Hạc thờ", "Gỗ"), ("Đôi lọ lộc bình", "Gốm Bát Tràng"), ("Tượng Phật A Di Đà", "Gỗ sơn son thếp vàng"),
    ("Mâm bồng", "Gỗ sơn son"), ("Chân đèn", "Đồng"), ("Cây đèn thờ", "Gốm men rạn"),
)
FESTIVALS = ((1, 10, 3), (1, 15, 1), (2, 6, 2), (2, 14, 3), (3, 10, 1), (8, 15, 1), (10, 10, 2), (11, 12, 2))
COLORS = ("#7a3e18", "#8c4a2f", "#5d4037", "#6d4c41", "#4e342e", "#795548")


def _picture(name: str, color: str) -> tuple[str, bytes, bytes]:
    image = images.placeholder(name, color, size=480)
    full, thumb = io.BytesIO(), io.BytesIO()
    image.save(full, "JPEG", quality=80)
    image.resize((240, 240)).save(thumb, "JPEG", quality=80)
    return hashlib.sha256(full.getvalue()).hexdigest()[:24], full.getvalue(), thumb.getvalue()


def _panorama(name: str) -> tuple[str, bytes, bytes]:
    """An honest demo panorama: a sky, a courtyard and the four directions written on it (no photo pretends to be
    one), 2:1 like an equirectangular photo."""
    from PIL import Image, ImageDraw, ImageFont

    from app.posters import FONT_BOLD

    width, height = 2048, 1024
    image = Image.new("RGB", (width, height), "#9cc3e0")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, height * 0.55, width, height), fill="#b9a48a")
    for x in range(0, width, 128):
        draw.rectangle((x + 20, height * 0.35, x + 100, height * 0.55), fill="#7a3e18")
        draw.polygon(((x, height * 0.36), (x + 64, height * 0.28), (x + 128, height * 0.36)), fill="#4e342e")
    font = ImageFont.truetype(str(FONT_BOLD), 64)
    for index, label in enumerate(("BẮC · N", "ĐÔNG · E", "NAM · S", "TÂY · W")):
        draw.text((index * width / 4 + 40, height * 0.65), label, fill="#ffffff",
                  font=font)
    draw.text((40, 40), f"Ảnh minh họa 360° · {name}", fill="#1c1b1f", font=ImageFont.truetype(str(FONT_BOLD), 40))
    full, thumb = io.BytesIO(), io.BytesIO()
    image.save(full, "JPEG", quality=82)
    image.resize((800, 400)).save(thumb, "JPEG", quality=80)
    return hashlib.sha256(full.getvalue()).hexdigest()[:24], full.getvalue(), thumb.getvalue()


def _texts(rng: random.Random, name: str, kind: str, commune: str, period: str) -> tuple[str, str]:
    deity = {"dinh": "Thành hoàng làng", "den": "vị tướng có công đánh giặc", "mieu": "thần Thổ địa",
             "chua": "Phật", "nha_tho_ho": "tổ tiên dòng họ", "van_chi": "Khổng Tử và các bậc tiên hiền"}[kind]
    summary = (f"{name} thờ {deity}. Công trình gồm tam quan, sân gạch, nhà tiền tế và hậu cung, mái lợp ngói mũi "
               f"hài, các đầu đao cong vút. Trong hậu cung còn giữ nhiều hiện vật quý như hoành phi, câu đối và bát "
               f"hương cổ. Nội dung minh họa cho bản trình diễn.")
    built = period[0].lower() + period[1:]
    history = (f"Theo các cụ cao niên trong làng, {name[0].lower() + name[1:]} được dựng vào {built}, "
               f"trùng tu nhiều lần, lần gần nhất vào năm {rng.randint(1995, 2022)}. Đây là nơi sinh hoạt văn hóa, "
               f"tín ngưỡng của nhân dân {commune}. Nội dung minh họa cho bản trình diễn.")
    return summary, history


def seed(now: datetime | None = None) -> dict[str, int]:
    """Idempotent: does nothing once any relic exists. Communes must exist (app/demo.py makes them first)."""
    now = now or datetime.now(timezone.utc)
    rng = random.Random(287)
    with all_tenants():
        if db.session.scalar(select(func.count()).select_from(Relic)):
            return {"relics": 0}
        tenants = list(db.session.scalars(select(Tenant).order_by(Tenant.code)))
        if not tenants:
            return {"relics": 0}
        kinds = [k for k in KINDS for _ in range(k[2])]
        relic_rows = []
        for index in range(RELICS):
            tenant = tenants[index % len(tenants)]
            nth = index // len(tenants)
            kind, pattern, _weight = kinds[(index * 7 + nth) % len(kinds)]
            place = f"thôn {HAMLETS[nth % len(HAMLETS)]}" if nth else tenant.name
            name = pattern.format(place=place, family=FAMILIES[index % len(FAMILIES)])
            period = rng.choice(PERIODS)
            summary, history = _texts(rng, name, kind, tenant.display_name, period)
            ranking = "national" if nth == 0 and index % 3 == 0 else "city" if nth < 3 and index % 2 else "none"
            main = nth == 0
            relic_rows.append({
                "tenant_id": tenant.id, "name": name, "name_en": "", "kind": kind, "ranking": ranking,
                "ranked_year": rng.randint(1989, 2020) if ranking != "none" else None,
                "address": f"{place[0].upper() + place[1:]}, {tenant.display_name}, Gia Lâm, Hà Nội",
                "latitude": round(21.02 + rng.uniform(-0.09, 0.09), 6) if main else None,
                "longitude": round(105.94 + rng.uniform(-0.07, 0.07), 6) if main else None,
                "summary": summary, "history": history,
                "summary_en": (f"A {kind.replace('_', ' ')} of {tenant.display_name}, with its gate, courtyard, "
                               "front hall and sanctuary. Made-up text for the demonstration.") if main else "",
                "history_en": "", "photos": [], "panorama": None, "published": True, "demo": True,
            })
        db.session.execute(insert(Relic), relic_rows)
        relics = list(db.session.execute(select(Relic.id, Relic.tenant_id, Relic.name).order_by(Relic.id)))

        photos, panoramas = [], []
        for position, (relic_id, tenant_id, name) in enumerate(relics):
            if position < len(tenants):  # each commune's main relic has a photo
                picture = _picture(name, COLORS[position % len(COLORS)])
                photos.append((relic_id, tenant_id, picture))
            if position < PANORAMAS:
                panoramas.append((relic_id, tenant_id, _panorama(name)))
        for relic_id, tenant_id, (name, full, thumb) in photos + panoramas:
            images.store(pictures.AREA, tenant_id, f"relic-{relic_id}", name, full, thumb)
        for relic_id, _tenant_id, (name, _full, _thumb) in photos:
            db.session.execute(Relic.__table__.update().where(Relic.id == relic_id).values(photos=[name]))
        for relic_id, _tenant_id, (name, _full, _thumb) in panoramas:
            db.session.execute(Relic.__table__.update().where(Relic.id == relic_id).values(panorama=name))

        db.session.execute(insert(Festival), [{
            "tenant_id": tenant_id, "relic_id": relic_id, "name": f"Lễ hội {name}", "name_en": "",
            "lunar_month": month, "lunar_day": day, "days": days,
            "description": "Tế lễ, rước kiệu và các trò chơi dân gian. Nội dung minh họa.",
        } for (relic_id, tenant_id, name), (month, day, days) in
            ((relic, rng.choice(FESTIVALS)) for relic in relics)])

        artefact_rows, counters = [], {}
        for relic_id, tenant_id, _name in relics:
            for item_name, material in rng.sample(ARTEFACTS, rng.randint(2, 5)):
                counters[tenant_id] = counters.get(tenant_id, 0) + 1
                artefact_rows.append({
                    "tenant_id": tenant_id, "relic_id": relic_id, "inventory_number": f"HV-{counters[tenant_id]:04d}",
                    "name": item_name, "material": material, "period": rng.choice(PERIODS),
                    "description": f"{item_name} bằng {material.lower()}, còn tương đối nguyên vẹn. Nội dung minh họa.",
                    "photos": [],
                })
        db.session.execute(insert(Artefact), artefact_rows)

        db.session.execute(insert(Stele), [{
            "tenant_id": tenant_id, "relic_id": relic_id,
            "kind": "stele" if position % 3 else "document",
            "title": "Bia Hậu thần" if position % 3 else "Sắc phong thần",
            "period": rng.choice(("Cảnh Hưng", "Chính Hòa", "Vĩnh Thịnh", "Tự Đức", "Khải Định")) + f" năm thứ "
                      f"{rng.randint(2, 30)}",
            "original_text": "後神碑記" if position % 3 else "敕封",
            "transcription": "Hậu thần bi ký" if position % 3 else "Sắc phong",
            "translation": ("Bài ký bia Hậu thần: ghi công đức người cúng ruộng cho làng (bản dịch minh họa)."
                            if position % 3 else "Sắc vua phong thần cho làng (bản dịch minh họa)."),
            "rubbings": [],
        } for position, (relic_id, tenant_id, _name) in enumerate(relics[:STELES])])

        board_rows, numbers = [], {}
        for position, (relic_id, tenant_id, _name) in enumerate(relics[:BOARDS]):
            numbers[tenant_id] = numbers.get(tenant_id, 0) + 1
            narrated = position >= BOARDS - NARRATED_2024
            installed = date(2024, rng.randint(3, 11), rng.randint(1, 28)) if narrated else \
                date(rng.randint(2019, 2023), rng.randint(1, 12), rng.randint(1, 28))
            board_rows.append({"tenant_id": tenant_id, "relic_id": relic_id, "number": numbers[tenant_id],
                               "narration": narrated, "installed_on": installed, "active": True})
        db.session.execute(insert(Board), board_rows)

        today = now.date()
        scan_rows = []
        for board_id, tenant_id in db.session.execute(select(Board.id, Board.tenant_id)):
            days = sorted(rng.sample(range(180), rng.randint(20, 45)))
            for back in days:
                scan_rows.append({"tenant_id": tenant_id, "board_id": board_id, "day": today - timedelta(days=back),
                                  "scans": rng.randint(1, 12)})
        db.session.execute(insert(BoardScan), scan_rows)
        db.session.commit()  # bulk seeding commits itself (app/transactions.py: the few commits outside it)
    return {"relics": len(relic_rows), "boards": len(board_rows), "artefacts": len(artefact_rows),
            "steles": min(STELES, len(relics))}
