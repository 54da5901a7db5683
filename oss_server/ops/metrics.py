"""Prometheus metrics: requests, update outcomes, lookups, rate-limit hits, outbox.

Under gunicorn every worker is its own process, so counters must be summed across them:
set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory writable by the workers (cleared
at each start) before the server starts, and have the master call :func:`worker_exit`
for dead workers (``gunicorn.conf.py`` does). Without it the numbers are per process.
"""
from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

REQUESTS = Counter("oss_http_requests_total", "HTTP requests answered, by endpoint.",
                   ["endpoint", "method", "status"])
LATENCY = Histogram("oss_http_request_duration_seconds", "Time to answer a request, by endpoint.",
                    ["endpoint", "method"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
UPDATES = Counter("oss_updates_total", "Received updates, by outcome.", ["outcome"])
LOOKUPS = Counter("oss_lookups_total", "Shopper lookups, by result.", ["endpoint", "result"])
RATE_LIMITED = Counter("oss_rate_limited_total", "Requests refused with 429, by endpoint.",
                       ["endpoint"])

# Endpoints whose answer is a shopper lookup's result.
LOOKUP_ENDPOINTS = ("shop.lookup", "shop_api.lookup")
# Of those, the ones answering a match with 200 JSON rather than a 303 to the status page.
JSON_LOOKUPS = ("shop_api.lookup",)


# The labelled children of REQUESTS and LATENCY per (endpoint, method, status): asking
# the metric for them takes its lock and checks the labels on every request. The routes
# are fixed, so this stays a few dozen entries ("unmatched" stands for unknown paths).
_children: dict[tuple[str, str, int], tuple] = {}


def observe_request(endpoint: str, method: str, status: int, seconds: float) -> None:
    """Count one answered request and what it means for lookups and limits."""
    key = (endpoint, method, status)
    children = _children.get(key)
    if children is None:
        children = _children[key] = (REQUESTS.labels(endpoint, method, str(status)),
                                     LATENCY.labels(endpoint, method))
    children[0].inc()
    children[1].observe(seconds)
    if status == 429:
        RATE_LIMITED.labels(endpoint).inc()
    if endpoint in LOOKUP_ENDPOINTS and method == "POST":
        LOOKUPS.labels(endpoint, lookup_result(endpoint, status)).inc()


def lookup_result(endpoint: str, status: int) -> str:
    """Classify a lookup response: found, not_found, limited, invalid or error."""
    if status == 429:
        return "limited"
    if status >= 500:
        return "error"
    if status == 303 or (status == 200 and endpoint in JSON_LOOKUPS):
        return "found"
    if status in (200, 404):
        return "not_found"
    return "invalid"


def count_updates(results: list[dict]) -> None:
    """Count each update of a batch by its outcome (applied, duplicate, stale, rejected)."""
    tally: dict[str, int] = {}
    for result in results:
        tally[result["result"]] = tally.get(result["result"], 0) + 1
    for outcome, count in tally.items():
        UPDATES.labels(outcome).inc(count)


class _StorageCollector:
    """Gauges read from the database at scrape time (they belong to no one process)."""

    def __init__(self, read_outbox):
        self.read_outbox = read_outbox

    def collect(self):
        up = GaugeMetricFamily("oss_database_up", "1 when the database answered this scrape.")
        try:
            depth, oldest_age = self.read_outbox()
        except Exception:  # a scrape must still answer while storage is down
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily("oss_outbox_pending_emails",
                                "Notification emails waiting to be sent.", value=depth)
        yield GaugeMetricFamily("oss_outbox_oldest_pending_age_seconds",
                                "Age of the oldest unsent notification email (0 when none).",
                                value=oldest_age)


def render(read_outbox) -> tuple[bytes, str]:
    """Return the exposition text of every metric, summed over workers when multiprocess."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY as registry
    storage = CollectorRegistry()
    storage.register(_StorageCollector(read_outbox))
    return generate_latest(registry) + generate_latest(storage), CONTENT_TYPE_LATEST


def worker_exit(pid: int) -> None:
    """Drop a dead worker's live gauges (call from gunicorn's ``child_exit`` hook)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid)
