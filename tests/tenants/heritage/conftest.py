from __future__ import annotations

import pytest


@pytest.fixture
def commune(make):
    """Bát Tràng with its commune admin and officer."""
    tenant = make.tenant("bat-trang", "Bát Tràng")
    make.user("admin@bt.vn", "commune_admin", tenant)
    make.user("officer@bt.vn", "officer", tenant)
    return tenant


@pytest.fixture
def uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    return tmp_path / "uploads"
