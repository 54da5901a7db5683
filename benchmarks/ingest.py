"""Ingestion measured in-process: ``apply_updates`` plus the commit, no HTTP."""
from __future__ import annotations

import gc
import time

from .workload import Stream


def inprocess_rate(app, store_id: int, batches: int, size: int = 500,
                   stream: Stream | None = None, profile: str | None = None) -> dict:
    """Apply *batches* batches of *size* updates; return updates/s and the outcome mix."""
    from oss_server.ops.collector import tune_for_serving

    stream = stream or Stream("I")
    work = [stream.batch(size) for _ in range(batches)]
    outcomes: dict[str, int] = {}
    profiler = None
    if profile:
        from pyinstrument import Profiler
        profiler = Profiler()
    # The collector as the served workers run it (see gunicorn.conf.py), restored after.
    saved = gc.get_threshold()
    tune_for_serving()
    try:
        return _apply(app, store_id, work, batches * size, outcomes, profiler, profile)
    finally:
        gc.unfreeze()
        gc.set_threshold(*saved)


def _apply(app, store_id: int, work: list, total: int, outcomes: dict, profiler,
           profile: str | None) -> dict:
    from oss_server.extensions import db

    with app.app_context():
        factor_key = app.config["OSS_FACTOR_KEY"]
        if profiler:
            profiler.start()
        start, cpu = time.perf_counter(), time.process_time()
        for updates in work:
            batch = apply_batch(store_id, updates, factor_key)
            for result in batch.results:
                outcomes[result["result"]] = outcomes.get(result["result"], 0) + 1
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        if profiler:
            profiler.stop()
            with open(profile, "w") as out:
                out.write(profiler.output_text(unicode=True, color=False))
        db.session.remove()
    return {"updates_per_s": total / elapsed, "updates_per_cpu_s": total / cpu,
            "outcomes": outcomes}


def apply_batch(store_id: int, updates: list, factor_key: str):
    """Apply one batch to the store and commit, as the API does (inside an app context)."""
    from oss_server.extensions import db
    from oss_server.models import Store
    from oss_server.services.updates import apply_updates

    store = db.session.get(Store, store_id)
    batch = apply_updates(db.session, store, updates, factor_key=factor_key)
    db.session.commit()
    return batch
