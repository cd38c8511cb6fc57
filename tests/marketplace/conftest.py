from __future__ import annotations

import pytest

from tests.marketplace.helpers import make_product, make_vendor


@pytest.fixture(autouse=True)
def _uploads(app, tmp_path, monkeypatch):
    """Product images of each test in its own folder."""
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))


@pytest.fixture
def shop(app, make):
    """Two communes, three vendors (two in Bát Tràng), a few published products and a draft."""
    bat_trang = make.tenant("bat-trang", "Bát Tràng")
    kieu_ky = make.tenant("kieu-ky", "Kiêu Kỵ")
    gom = make_vendor(app, bat_trang, "Gốm Minh Long")
    men = make_vendor(app, bat_trang, "Men lam Hợp Thành")
    vang = make_vendor(app, kieu_ky, "Vàng quỳ Kiêu Kỵ")
    products = {
        "binh": make_product(app, bat_trang, gom, "Bình gốm men lam Bát Tràng", price=250_000, stock=5, stars=4),
        "am": make_product(app, bat_trang, men, "Ấm chén Bát Tràng men rạn", price=450_000, stock=3),
        "vang": make_product(app, kieu_ky, vang, "Tranh vàng quỳ Kiêu Kỵ", price=1_200_000, stock=2, stars=5),
        "draft": make_product(app, bat_trang, gom, "Đĩa gốm nháp", price=90_000, publish=False),
    }
    return {"tenants": {"bat_trang": bat_trang, "kieu_ky": kieu_ky},
            "vendors": {"gom": gom, "men": men, "vang": vang}, "products": products}


@pytest.fixture
def bank_secrets(app, monkeypatch):
    """The configured bank-notification secrets the signed SePay helpers use (as in tests/payments/conftest.py)."""
    from tests.payments.helpers import CASSO_KEY, PAYOS_KEY, SEPAY_KEY, SEPAY_SECRET

    for name, value in (("SEPAY_API_KEY", SEPAY_KEY), ("SEPAY_WEBHOOK_SECRET", SEPAY_SECRET),
                        ("CASSO_CHECKSUM_KEY", CASSO_KEY), ("PAYOS_CHECKSUM_KEY", PAYOS_KEY),
                        ("PRODUCTION", False)):
        monkeypatch.setitem(app.config, name, value)
