"""The stack controller: drains the queue to the receiver, one batch at a time.

Only one controller may drain a queue; it holds an exclusive ``flock`` on
``<queue file>.lock`` (released by the kernel even on SIGKILL) and writes a
heartbeat into the queue so ``status`` can tell it is alive. A child made by
``fork()`` closes its copy of the lock fd at once, so the lock never outlives
the controller's own process.

For crash tests, the environment variable ``SEOM_CLIENT_CRASH_POINT`` names a
point where the process ends at once with ``os._exit(70)``: ``after_claim``
(a batch read, nothing sent), ``after_response`` (the receiver
answered, before the local delete) or ``after_settle`` (outcome stored).
"""

import fcntl
import json
import logging
import os
import random
import socket
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

import requests

from .errors import ControllerLockedError
from .queue import MAX_BODY, now_rfc3339
from .sender import (DEAD, DELIVER, PAUSE, RETRY, SPLIT, backoff_delay, build_body, classify,
                     post)

log = logging.getLogger(__name__)

CRASH_ENV = "SEOM_CLIENT_CRASH_POINT"
CRASH_EXIT = 70

_holding = weakref.WeakSet()  # controllers of this process that hold their lock


def _drop_locks_in_child():
    """After fork(), close the child's copies of the lock fds.

    flock() belongs to the open file description, which fork() shares: a child
    keeping the fd would keep the queue locked after the controller exits. Only
    close() here; flock(LOCK_UN) would release the parent's lock too.
    """
    for controller in list(_holding):
        fd, controller._lock_fd = controller._lock_fd, None
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass
    _holding.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_drop_locks_in_child)


def lock_path(queue_path):
    """Return the controller lock file of a queue."""
    return Path(f"{queue_path}.lock")


def controller_running(queue_path):
    """Return True when some process holds the controller lock of this queue."""
    path = lock_path(queue_path)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing also drops the probe's shared lock
    return False


@dataclass
class RunSummary:
    """What one run of the controller did."""

    delivered: int = 0
    dead: int = 0
    paused: str | None = None
    last_error: str | None = None
    stopped: str = "stopped"  # 'drained', 'stopped', 'paused' or 'error'


class Controller:
    """Drains one queue to one receiver; use acquire() before run()."""

    def __init__(self, config, queue, *, session=None, rand=random.random, reload_config=None):
        self.config = config
        self.queue = queue
        self.session = session or requests.Session()
        self.rand = rand  # the jitter source; tests pin it
        self.reload_config = reload_config
        self.wake = threading.Event()
        self._lock_fd = None
        self._crash_point = os.environ.get(CRASH_ENV) or None
        self._started_at = None
        self._last_beat = 0.0

    # -- lock and heartbeat ------------------------------------------------------------------

    def acquire(self):
        """Take the single-controller lock; raise ControllerLockedError if another holds it."""
        path = lock_path(self.queue.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ControllerLockedError(f"another controller is draining {self.queue.path}") from None
        self._lock_fd = fd
        _holding.add(self)
        self._started_at = now_rfc3339()
        self._beat(force=True)

    def release(self):
        """Drop the lock and the heartbeat."""
        if self._lock_fd is None:
            return
        try:
            self.queue.set_meta(controller=None)
        finally:
            _holding.discard(self)
            os.close(self._lock_fd)
            self._lock_fd = None

    def _beat(self, force=False):
        """Record that this controller is alive (at most every heartbeat_s)."""
        now = time.time()
        if force or now - self._last_beat >= self.config.setting("heartbeat_s"):
            self._last_beat = now
            self.queue.set_meta(controller=json.dumps({
                "pid": os.getpid(), "host": socket.gethostname(),
                "started_at": self._started_at, "heartbeat_at": now}))

    def _wait(self, event, seconds):
        """Wait up to seconds for event, in heartbeat-sized slices, beating after each one.

        A long backoff (up to backoff_cap_s, or a Retry-After of an hour) must not
        leave a stale heartbeat behind for a controller that is alive.
        """
        deadline = time.monotonic() + max(seconds, 0.0)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or event.wait(min(remaining, self.config.setting("heartbeat_s"))):
                break
            self._beat(force=True)
        self._beat()

    def _crash(self, point):
        """End the process abruptly at a named point when a crash test asks for it."""
        if self._crash_point == point:
            os._exit(CRASH_EXIT)

    # -- the loop ----------------------------------------------------------------------------

    def run(self, stop=None, once=False, on_progress=None):
        """Drain until stopped (or, with once, until nothing more can be sent now)."""
        if self._lock_fd is None:
            raise ControllerLockedError("acquire() the controller lock before run()")
        stop = stop or threading.Event()
        summary = RunSummary()
        recovered = self.queue.recover()  # rows an earlier version left in flight
        if recovered:
            log.info("returned %d in-flight updates to pending", recovered)
        self._beat(force=True)
        failures, hold_until = 0, 0.0
        while not stop.is_set():
            self._beat()
            if time.time() < hold_until:
                self._wait(self.wake, hold_until - time.time())
                self.wake.clear()
                continue
            batch = self.queue.claim(self.config.setting("batch_max_updates"), MAX_BODY)
            if not batch:
                if once:
                    summary.stopped = "drained"
                    break
                self._wait(self.wake, self.config.setting("idle_poll_s"))
                self.wake.clear()
                continue
            self._crash("after_claim")
            verdict = self._deliver(batch, summary)
            if on_progress:
                on_progress(summary)
            if verdict.action == RETRY:
                failures += 1
                summary.paused, summary.last_error = None, verdict.reason
                if once:
                    summary.stopped = "error"
                    break
                delay = backoff_delay(failures, self.config.setting("backoff_base_s"),
                                      self.config.setting("backoff_cap_s"), self.rand)
                delay = max(delay, verdict.retry_after or 0.0)
                log.warning("send failed (%s); retrying in %.1fs", verdict.reason, delay)
                self._wait(stop, delay)
            elif verdict.action == PAUSE:
                summary.paused = summary.last_error = verdict.reason
                if once:
                    summary.stopped = "paused"
                    break
                log.error("queue paused: %s; re-checking every %ss", verdict.reason,
                          self.config.setting("pause_recheck_s"))
                hold_until = time.time() + self.config.setting("pause_recheck_s")
                self._reload()
            else:
                failures, summary.paused = 0, None
        return summary

    def serve(self, stop):
        """Run until stopped, surviving unexpected errors (a full disk, a locked file)."""
        while not stop.is_set():
            try:
                self.run(stop)
            except Exception:  # the host program's thread must not die silently
                log.exception("stack controller failed; restarting in 5s")
                stop.wait(5.0)

    def _reload(self):
        """Pick up a fixed key or URL from the config file while paused."""
        if self.reload_config is None:
            return
        try:
            self.config = self.reload_config()
        except Exception as exc:  # a half-edited file must not kill the controller
            log.warning("could not reload the config: %s", exc)

    def _deliver(self, batch, summary):
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
            # Too large even on its own (413): it can never succeed as it is.
            errors = {"request": [verdict.reason]}
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

    def _settle_results(self, batch, verdict, summary, stamp):
        """Delete delivered updates, dead-letter rejected ones, reschedule the unanswered."""
        delivered, dead, retry = [], {}, {}
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
        meta = {"last_success_at": stamp, "paused": None}
        error = None
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
