"""What every worker loads at start (issue #17: worker RSS within 150 MB on the scale data). fpdf2 (with fontTools,
about 20 MB of a worker's memory) is imported when a PDF poster is drawn, not when the app starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_starting_the_app_does_not_load_the_pdf_library():
    code = ("import sys; from app import create_app; create_app({'TESTING': True, 'SQLALCHEMY_DATABASE_URI': "
            "'sqlite://', 'SECRET_KEY': 'x'}); print(sorted(m for m in ('fpdf', 'fontTools') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={"APP_ENV": "testing", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"
