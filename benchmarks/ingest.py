"""Ingestion measured in-process: ``apply_updates`` plus the commit, no HTTP."""
from __future__ import annotations

import time

from .workload import Stream


def inprocess_rate(app, store_id: int, batches: int, size: int = 500,
                   stream: Stream | None = None, profile: str | None = None) -> dict:
    """Apply *batches* batches of *size* updates; return updates/s and the outcome mix."""
    from oss_server.extensions import db
    from oss_server.models import Store
    from oss_server.services.updates import apply_updates

    stream = stream or Stream("I")
    work = [stream.batch(size) for _ in range(batches)]
    outcomes: dict[str, int] = {}
    profiler = None
    if profile:
        from pyinstrument import Profiler
        profiler = Profiler()
    with app.app_context():
        factor_key = app.config["OSS_FACTOR_KEY"]
        if profiler:
            profiler.start()
        start, cpu = time.perf_counter(), time.process_time()
        for updates in work:
            store = db.session.get(Store, store_id)
            batch = apply_updates(db.session, store, updates, factor_key=factor_key)
            db.session.commit()
            for result in batch.results:
                outcomes[result["result"]] = outcomes.get(result["result"], 0) + 1
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        if profiler:
            profiler.stop()
            with open(profile, "w") as out:
                out.write(profiler.output_text(unicode=True, color=False))
        db.session.remove()
    return {"updates_per_s": batches * size / elapsed,
            "updates_per_cpu_s": batches * size / cpu, "outcomes": outcomes}
