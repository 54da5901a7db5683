"""Lookups on SQLite databases nobody ran ANALYZE on: a store of 10,000 orders against a larger one.

A new install has no planner statistics, and the rest of the benchmark analyzes after
its bulk load, so it cannot see a read whose plan is only right with them. Here two
databases are loaded and left as they are; the lookup is driven against each in turn,
alternating, so the machine's drift falls on both sizes alike.
"""
from __future__ import annotations

import shutil
import statistics
import sys

from sqlalchemy import text

from . import dataset, env, scenarios
from .servers import Gunicorn

SMALL = 10_000


def _loaded(size: int) -> tuple:
    bench = env.create_db("sqlite")
    app = env.make_app(bench)
    ctx = env.prepare(app)
    print(f"[sqlite, never analyzed] loading {size:,} orders", file=sys.stderr)
    dataset.load_orders(app, ctx["store_id"], 1, size, analyze=False)
    from oss_server.extensions import db

    with app.app_context():
        with db.engine.connect() as conn:
            stats = conn.scalar(text("SELECT count(*) FROM sqlite_master"
                                     " WHERE name LIKE 'sqlite_stat%'"))
        db.engine.dispose()
    if stats:
        raise RuntimeError("the never-analyzed database has statistics")
    return bench, ctx


def lookup_growth(large: int, duration: float, wrk, rounds: int = 4) -> dict:
    """Lookups/s at SMALL and at *large* orders in one store, never analyzed; median of *rounds*."""
    databases = {size: _loaded(size) for size in (SMALL, large)}
    runs: dict[int, list[float]] = {SMALL: [], large: []}
    p99: dict[int, list[float]] = {SMALL: [], large: []}
    try:
        for turn in range(rounds):
            # Small then large, then large then small: a drift of the machine's speed
            # during the run falls on both sizes alike.
            for size in (SMALL, large) if turn % 2 == 0 else (large, SMALL):
                bench, ctx = databases[size]
                serials = scenarios.sample(1, size, 2000, seed=size)
                with Gunicorn("wsgi:app", env=bench.environ(), probe="/healthz") as oss:
                    result = scenarios.lookup(oss, ctx, serials, duration, wrk)
                if not result["measured"]:
                    return {"measured": False, "reason": result["reason"]}
                runs[size].append(result["rps"])
                p99[size].append(result["p99_ms"] or 0.0)
    finally:
        for bench, _ctx in databases.values():
            shutil.rmtree(bench.workdir, ignore_errors=True)
    small, big = statistics.median(runs[SMALL]), statistics.median(runs[large])
    return {"measured": True, "small": small, "large": big, "ratio": big / small,
            "orders": large, "runs": runs, "p99_ms": p99}
