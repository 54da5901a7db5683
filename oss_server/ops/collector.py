"""Garbage-collector settings of a serving process (gunicorn's ``post_worker_init``).

The first generation is collected every 50,000 allocations net instead of 700. A request
allocates thousands of short-lived objects (an ingestion batch hundreds of thousands) and
almost none of them in cycles, so the default thresholds spend a large share of a worker's
time scanning objects that reference counting frees anyway (figures in docs/performance.md).
"""
from __future__ import annotations

import gc

THRESHOLDS = (50_000, 20, 20)


def tune_for_serving() -> None:
    """Freeze what is loaded, then collect young garbage less often."""
    # Frozen objects (modules, the app, compiled templates and statements) live as long as
    # the process; the collector then never scans them again.
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
