"""The stack controller: drains the queue to the receiver, one batch at a time.

Only one controller may drain a queue: it holds the lease kept in the queue's own SQLite
file (see lease.py), renewed by a thread every second or so; that record is also the
heartbeat ``status`` shows. A controller killed outright stops renewing and another takes
over within seconds. Nothing here needs a POSIX-only module, so it runs on Windows too.

While paused (401/402/403) or backing off, the controller looks every half second for a
nudge: the config file changed (``seom-client config set``) or ``seom-client resume`` asked
it to try again. It re-reads the config before every re-check.

For crash tests, the environment variable ``SEOM_CLIENT_CRASH_POINT`` names a
point where the process ends at once with ``os._exit(70)``: ``after_claim``
(a batch read, nothing sent), ``after_response`` (the receiver
answered, before the local delete) or ``after_settle`` (outcome stored).
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

from . import lease
from .errors import ControllerLockedError
from .queue import MAX_BODY, Queue, Record, now_rfc3339
from .sender import (
    DEAD,
    DELIVER,
    PAUSE,
    RETRY,
    SPLIT,
    Verdict,
    backoff_delay,
    build_body,
    classify,
    post,
)

if TYPE_CHECKING:
    from .config import Config

log = logging.getLogger(__name__)

CRASH_ENV = "SEOM_CLIENT_CRASH_POINT"
CRASH_EXIT = 70
RESUME_KEY = "resume_requested_at"  # queue meta: when someone last asked for a retry now
NUDGE_POLL_S = 0.5                   # how often a waiting controller looks for a nudge


def controller_running(queue_path: Path | str) -> bool:
    """Return True when a live controller holds the lease of this queue."""
    record = lease.read(queue_path)
    return lease.is_live(record) and not lease.holder_gone(record)


def request_resume(queue: Queue) -> None:
    """Ask the queue's controller to re-read its config and try again now (a pause, a backoff)."""
    queue.set_meta(**{RESUME_KEY: repr(time.time())})


@dataclass
class RunSummary:
    """What one run of the controller did."""

    delivered: int = 0
    dead: int = 0
    paused: str | None = None
    last_error: str | None = None
    detail: str | None = None  # the raw error behind last_error (network errors)
    stopped: str = "stopped"  # 'drained', 'stopped', 'paused' or 'error'


class Controller:
    """Drains one queue to one receiver; use acquire() before run()."""

    def __init__(self, config: Config, queue: Queue, *, session: requests.Session | None = None,
                 rand: Callable[[], float] = random.random,
                 reload_config: Callable[[], Config] | None = None) -> None:
        self.config = config
        self.queue = queue
        self.session = session or requests.Session()
        self.rand = rand  # the jitter source; tests pin it
        self.reload_config = reload_config
        self.wake = threading.Event()
        self._lease: lease.Lease | None = None
        self._crash_point = os.environ.get(CRASH_ENV) or None

    # -- the lease ---------------------------------------------------------------------------

    def acquire(self) -> None:
        """Take the single-controller lease; raise ControllerLockedError if another holds it."""
        renew = max(0.05, min(lease.RENEW_S, self.config.setting("heartbeat_s")))
        held = lease.Lease(self.queue.path, renew_s=renew, lease_s=max(lease.LEASE_S, 4 * renew))
        held.acquire()
        self._lease = held

    def release(self) -> None:
        """Give the lease up (another controller may start at once)."""
        held, self._lease = self._lease, None
        if held is not None:
            held.release()

    @property
    def holding(self) -> bool:
        """Return True while this controller holds its queue's lease."""
        return self._lease is not None and self._lease.held

    def _crash(self, point: str) -> None:
        """End the process abruptly at a named point when a crash test asks for it."""
        if self._crash_point == point:
            os._exit(CRASH_EXIT)

    # -- waiting and nudges ------------------------------------------------------------------

    def _config_stamp(self) -> tuple[int, int, int] | None:
        """Return what identifies the config file's current content (None without a file)."""
        path = getattr(self.config, "path", None)
        if path is None:
            return None
        try:
            st = os.stat(path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def _nudged(self, since: float, stamp: tuple[int, int, int] | None) -> bool:
        """Return True when the config file changed or a resume was asked for after since."""
        if self.reload_config is not None and self._config_stamp() != stamp:
            return True
        try:
            asked = float(self.queue.get_meta(RESUME_KEY) or 0)
        except ValueError:
            asked = 0.0
        return asked >= since

    def _hold(self, seconds: float, stop: threading.Event) -> bool:
        """Wait up to seconds, ending early when stopped, nudged or the lease is lost.

        Return True when nudged: the caller re-reads the config and tries again at once.
        """
        deadline = time.monotonic() + max(seconds, 0.0)
        since, stamp = time.time(), self._config_stamp()
        while not stop.is_set() and self.holding:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            stop.wait(min(remaining, NUDGE_POLL_S))
            if self._nudged(since, stamp):
                return True
        return False

    # -- the loop ----------------------------------------------------------------------------

    def run(self, stop: threading.Event | None = None, once: bool = False,
            on_progress: Callable[[RunSummary], None] | None = None) -> RunSummary:
        """Drain until stopped (or, with once, until nothing more can be sent now)."""
        if not self.holding:
            raise ControllerLockedError("acquire() the controller lease before run()")
        stop = stop or threading.Event()
        summary = RunSummary()
        recovered = self.queue.recover()  # rows an earlier version left in flight
        if recovered:
            log.info("returned %d in-flight updates to pending", recovered)
        failures = 0
        while not stop.is_set():
            if not self.holding:
                raise ControllerLockedError(f"another controller took over {self.queue.path}")
            batch = self.queue.claim(self.config.setting("batch_max_updates"), MAX_BODY)
            if not batch:
                if once:
                    summary.stopped = "drained"
                    break
                self.wake.wait(self.config.setting("idle_poll_s"))
                self.wake.clear()
                continue
            self._crash("after_claim")
            verdict = self._deliver(batch, summary)
            if on_progress:
                on_progress(summary)
            if verdict.action == RETRY:
                failures += 1
                summary.paused, summary.last_error = None, verdict.reason
                summary.detail = verdict.detail
                if once:
                    summary.stopped = "error"
                    break
                delay = backoff_delay(failures, self.config.setting("backoff_base_s"),
                                      self.config.setting("backoff_cap_s"), self.rand)
                delay = max(delay, verdict.retry_after or 0.0)
                log.warning("send failed (%s); retrying in %.1fs", verdict.reason, delay)
                if self._hold(delay, stop):
                    self._reload()
                    failures = 0
            elif verdict.action == PAUSE:
                summary.paused = summary.last_error = verdict.reason
                if once:
                    summary.stopped = "paused"
                    break
                log.error("queue paused: %s; re-checking every %ss", verdict.reason,
                          self.config.setting("pause_recheck_s"))
                self._hold(self.config.setting("pause_recheck_s"), stop)
                self._reload()  # before every re-check, so a fixed key is used at once
            else:
                failures, summary.paused = 0, None
        return summary

    def serve(self, stop: threading.Event) -> None:
        """Run until stopped, surviving unexpected errors (a full disk, a locked file)."""
        while not stop.is_set():
            try:
                self.run(stop)
            except ControllerLockedError:
                log.error("stack controller stopped: another controller drains %s",
                          self.queue.path)
                return
            except Exception:  # the host program's thread must not die silently
                log.exception("stack controller failed; restarting in 5s")
                stop.wait(5.0)

    def _reload(self) -> None:
        """Re-read the config file (a fixed key, URL or secret) before trying again."""
        if self.reload_config is None:
            return
        try:
            self.config = self.reload_config()
        except Exception as exc:  # a half-edited file must not kill the controller
            log.warning("could not reload the config: %s", exc)

    def _deliver(self, batch: list[Record], summary: RunSummary) -> Verdict:
        """Send a batch and store its outcome; split it when the receiver says it is too large."""
        body = build_body(batch)
        response = post(self.session, self.config, body)
        verdict = classify(response, [r.update_id for r in batch])
        self._crash("after_response")
        ids = [r.id for r in batch]
        stamp = now_rfc3339()
        if verdict.action == DELIVER:
            self._settle_results(batch, verdict, summary, stamp)
        elif verdict.action == SPLIT and len(batch) == 1:
            # Too large on its own (413), or refused as malformed (400/422): it cannot succeed
            # as it is. It waits in the dead-letter list with the receiver's answer.
            errors: dict[str, Any] = {"request": [verdict.reason]}
            if verdict.body not in (None, ""):
                errors["receiver_body"] = verdict.body
            self.queue.settle(dead={ids[0]: errors}, error=verdict.reason,
                              meta={"last_error": f"{stamp} {verdict.reason}", "paused": None})
            summary.dead += 1
            verdict.action = DELIVER
        elif verdict.action == SPLIT:
            mid = len(batch) // 2
            first = self._deliver(batch[:mid], summary)
            if first.action != DELIVER:
                # Keep per-order order: the second half waits until the first half is through.
                self.queue.settle(release=[r.id for r in batch[mid:]], error=first.reason)
                return first
            return self._deliver(batch[mid:], summary)
        elif verdict.action == PAUSE:
            self.queue.settle(release=ids, error=verdict.reason,
                              meta={"paused": verdict.reason,
                                    "last_error": f"{stamp} {verdict.reason}"})
        else:
            # A retryable answer is not 401/402/403: the key and subscription are no longer
            # refused, so a pause recorded earlier is over (the error shows in last_error).
            self.queue.settle(release=ids, error=verdict.reason,
                              meta={"last_error": f"{stamp} {verdict.reason}", "paused": None})
        self._crash("after_settle")
        return verdict

    def _settle_results(self, batch: list[Record], verdict: Verdict, summary: RunSummary,
                        stamp: str) -> None:
        """Delete delivered updates, dead-letter rejected ones, reschedule the unanswered."""
        delivered: list[int] = []
        dead: dict[int, Any] = {}
        retry: dict[int, float] = {}
        for record in batch:
            action, errors = verdict.records[record.update_id]
            if action == DELIVER:
                delivered.append(record.id)
            elif action == DEAD:
                dead[record.id] = errors
            else:
                retry[record.id] = time.time() + backoff_delay(
                    record.attempts, self.config.setting("backoff_base_s"),
                    self.config.setting("backoff_cap_s"), self.rand)
        meta: dict[str, str | None] = {"last_success_at": stamp, "paused": None}
        error: str | None = None
        if retry:
            error = f"HTTP 200 without a usable result for {len(retry)} update(s)"
            meta["last_error"] = f"{stamp} {error}"
        elif dead:
            error = "rejected by the receiver"
            meta["last_error"] = (f"{stamp} {len(dead)} update(s) rejected "
                                  "(see 'seom-client dead list')")
        self.queue.settle(delivered=delivered, dead=dead, retry=retry, error=error, meta=meta)
        summary.delivered += len(delivered)
        summary.dead += len(dead)
