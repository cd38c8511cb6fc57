"""Throughput of the VietQR codec and QR rendering, to see what the cache buys.

Run: .venv/bin/python bench/bench_vietqr.py [--seconds 0.8]
Each measurement runs for a fixed time budget (default 0.8 s; four of them stay well under 10 s). Pure
functions only, so absolute numbers: no Flask endpoint is involved to take a ratio against.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path


def _measure(step: Callable[[int], object], seconds: float) -> tuple[int, float]:
    """Call step(i) for i = 0, 1, ... until the budget is spent; return (calls, elapsed)."""
    calls, start = 0, time.perf_counter()
    deadline = start + seconds
    while True:
        step(calls)
        calls += 1
        if calls % 16 == 0 or seconds <= 0:
            now = time.perf_counter()
            if now >= deadline:
                return calls, now - start


def run(seconds: float = 0.8) -> list[tuple[str, int, float]]:
    """Rows of (name, calls, elapsed seconds)."""
    from app.payments import qr
    from app.payments.vietqr import decode, encode

    def payload(i: int) -> str:
        return encode("970436", f"10{i:010d}", amount=10_000 + i, memo=f"GL{i:06d} Thanh toán đơn hàng"[:25])

    sample = [payload(i) for i in range(1000)]
    rows = [
        ("encode", *_measure(payload, seconds)),
        ("decode", *_measure(lambda i: decode(sample[i % len(sample)]), seconds)),
    ]

    qr.cache_clear()
    rows.append(("QR PNG cold (distinct payloads)", *_measure(lambda i: qr.qr_image(payload(10_000 + i), "png"),
                                                              seconds)))
    qr.cache_clear()
    hot = sample[:20]
    for p in hot:
        qr.qr_image(p, "png")
    rows.append(("QR PNG from cache", *_measure(lambda i: qr.qr_image(hot[i % len(hot)], "png"), seconds)))
    qr.cache_clear()
    return rows


def print_table(rows: list[tuple[str, int, float]]) -> None:
    width = max(len(name) for name, _, _ in rows)
    print(f"{'operation':<{width}}  {'calls':>9}  {'seconds':>7}  {'per second':>12}  {'µs/call':>9}")
    print("-" * (width + 45))
    for name, calls, elapsed in rows:
        print(f"{name:<{width}}  {calls:>9,}  {elapsed:>7.2f}  {calls / elapsed:>12,.0f}  "
              f"{elapsed / calls * 1e6:>9.1f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.8, help="time budget per measurement (max 2)")
    args = parser.parse_args(argv)
    root = str(Path(__file__).resolve().parents[1])
    if root not in sys.path:
        sys.path.insert(0, root)
    print_table(run(min(max(args.seconds, 0.05), 2.0)))


if __name__ == "__main__":
    main()
