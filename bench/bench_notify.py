"""Drain a burst of notifications with ONE worker and measure the rate (issue #20; results in bench/README.md).

A temporary SQLite database (or ``--database-url``, a PostgreSQL owner's URL, emptied of notifications first) gets
one commune and N pending SMS messages (default 10,000, written in bulk: the burst, not its writing, is measured);
a local HTTP server speaking eSMS.vn's documented format (tests/notify/servers.py) answers them; ``deliver_due`` is
called in a loop, as ``flask notify worker`` does, until nothing is due. At the end it checks that every message
is ``sent`` and that the provider got each RequestId exactly once: nothing twice, nothing lost.

    .venv/bin/python bench/bench_notify.py                       # 10,000 messages, batches of 500, SQLite
    .venv/bin/python bench/bench_notify.py --messages 2000 --batch 100
    .venv/bin/python bench/bench_notify.py --database-url postgresql://postgres@127.0.0.1:5432/bench_notify
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("APP_ENV", "testing")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500, help="messages claimed per round (--limit of the worker)")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    from flask_migrate import upgrade
    from sqlalchemy import delete, func, insert, select

    from app import create_app
    from app.extensions import db
    from app.notify.models import NotifyMessage
    from app.notify.worker import deliver_due
    from tenants.models import Tenant
    from tenants.scoping import all_tenants
    from tests.notify.servers import EsmsServer

    folder = tempfile.mkdtemp(prefix="bench-notify-")
    url = args.database_url or f"sqlite:///{folder}/bench.sqlite"
    server = EsmsServer().start()
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-secret",
                      "ESMS_URL": server.url, "ESMS_API_KEY": "k", "ESMS_SECRET_KEY": "s", "ESMS_BRANDNAME": "GIALAM",
                      "PUBLIC_BASE_URL": "https://gialam.example.vn"})
    with app.app_context(), all_tenants():
        upgrade()
        db.session.execute(delete(NotifyMessage))
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "bench-notify"))
        if tenant is None:
            tenant = Tenant(slug="bench-notify", name="Bench", kind="xã", code="99999", district_name="Gia Lâm",
                            district_code="018", province_name="Hà Nội")
            db.session.add(tenant)
            db.session.flush()
        now = datetime.now(timezone.utc)
        rows = [{"tenant_id": tenant.id, "key": f"bench:{i}", "subject": f"dossier:{i}", "event": "received",
                 "channel": "sms", "address": f"849{i:08d}", "locale": "vi", "title": "",
                 "body": f"Ho so {i} da duoc tiep nhan. Hen tra ket qua: 14/12/2026 16:00. Dung: https://x/t/{i}",
                 "template_id": "", "template_data": "", "status": "pending", "attempts": 0,
                 "next_attempt_at": now, "created_at": now} for i in range(args.messages)]
        for start in range(0, len(rows), 2000):
            db.session.execute(insert(NotifyMessage), rows[start:start + 2000])
        db.session.commit()

        started = time.perf_counter()
        rounds = 0
        while deliver_due(limit=args.batch):
            rounds += 1
        elapsed = time.perf_counter() - started
        sent = db.session.scalar(select(func.count()).where(NotifyMessage.status == "sent"))
    server.stop()
    distinct = len(server.sent)
    print(f"{args.messages} messages, one worker, batches of {args.batch} ({rounds} rounds), "
          f"{'PostgreSQL' if url.startswith('postgresql') else 'SQLite'}: {elapsed:.1f} s, "
          f"{args.messages / elapsed:.0f} messages/s")
    print(f"sent: {sent}; provider requests: {len(server.requests)}; distinct RequestIds: {distinct}")
    ok = sent == args.messages == len(server.requests) == distinct
    print("nothing sent twice, nothing lost" if ok else "MISMATCH: something was sent twice or lost")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
