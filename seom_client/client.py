"""The Client: the order manager's entry point (fire events, enqueue, status, controller thread)."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Self

import requests

from . import memory
from .config import Config
from .controller import Controller, controller_running
from .errors import ControllerLockedError, EventError, SeomClientError, UpdateError
from .events import CHANGE_STATUS_EVENTS, STANDARD_EVENTS, adopt_labels, apply_event, validate_label
from .queue import Queue
from .updates import check_update, now_rfc3339


@dataclass
class FireResult:
    """What fire() did: the new snapshot, the labels that changed, and whether an update was queued.

    ``order_status`` is (before, after) when the order's label changed, ``items``
    maps each changed line to (before, after); "before" is the label the client
    remembers (the snapshot's own when it knows nothing of the order, told by
    ``from_memory``).
    """

    event: str
    order: dict[str, Any]
    order_status: tuple[str | None, str] | None = None
    items: dict[str, tuple[str | None, str]] = field(default_factory=dict)
    queued: bool = False
    update: dict[str, Any] | None = None
    reason: str = ""
    from_memory: bool = False

    @property
    def changed(self) -> bool:
        """Return True when any label changed."""
        return self.order_status is not None or bool(self.items)


class Client:
    """An order manager's link to the OSS: labels, event table, durable queue and controller."""

    def __init__(self, config: Config | str | os.PathLike[str], *,
                 session: requests.Session | None = None,
                 rand: Callable[[], float] | None = None) -> None:
        if not isinstance(config, Config):
            config = Config.load(config)
        self.config = config
        self.queue = Queue(config.resolved_queue_path(), memory_days=config.memory_days)
        self._session = session
        self._rand = rand
        self._controller: Controller | None = None
        self._thread: threading.Thread | None = None
        self._stop: threading.Event | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- events ------------------------------------------------------------------------------

    def fire(self, event: str, order: dict[str, Any], items: list[str] | None = None, *,
             label: str | None = None, notify_customer: bool | None = None) -> FireResult:
        """Apply a status event to an order; queue an update when a label changed.

        The event starts from the labels the client last set on the order (its
        memory), not from the snapshot's, which may be stale; everything else in
        the update (lines, quantities, dates, tracking) comes from ``order``.
        ``items`` names the line ids an Item/Drop Ship event acts on (None: every
        line). ``label`` is the label the user just set, for the Change Status
        events; without it the snapshot is taken to carry the new label already.
        An update holding payment or street-address data is refused
        (SensitiveDataError) before anything is written.
        """
        outcome = self.fire_many([(event, order, items, label, notify_customer)])[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def fire_many(self, calls: list[tuple[Any, ...]]) -> list[FireResult | SeomClientError]:
        """Fire several events in one durable transaction, in order; one fsync for them all.

        Each call is ``(event, order, items, label, notify_customer)``; each outcome is
        its FireResult, or the EventError/UpdateError that refused it (a refused call
        writes nothing, the others are kept). The site's bridge gathers concurrent fires
        this way (a group commit).
        """
        outcomes: list[Any] = [None] * len(calls)
        due = []
        for n, (event, order, _items, label, _notify) in enumerate(calls):
            try:
                self._check_fire(event, order, label)
            except (EventError, UpdateError) as exc:
                outcomes[n] = exc
                continue
            if not self.config.use_status_updates:
                outcomes[n] = FireResult(event, order, reason="status updates are switched off")
            else:
                due.append(n)
        if due:
            # The decision (did a label change?) and its writes share one transaction: two
            # processes firing on the same order decide one after the other.
            with self.queue.transaction() as conn:
                for n in due:
                    try:
                        outcomes[n] = self._fire_in(conn, *calls[n])
                    except (EventError, UpdateError) as exc:  # raised before its writes
                        outcomes[n] = exc
        if any(isinstance(o, FireResult) and o.queued for o in outcomes):
            self._wake()
        return outcomes

    def _check_fire(self, event: str, order: Any, label: str | None) -> None:
        """Refuse an unknown event or label and a snapshot without an order number."""
        if event not in STANDARD_EVENTS:
            raise EventError(f"unknown event {event!r}")
        if not isinstance(order, dict) or not order.get("order_number"):
            raise UpdateError("the order snapshot needs an order_number")
        if label is not None:
            validate_label(label)
            if label not in self.config.labels:
                raise EventError(f"unknown label {label!r} (add it to the label list first)")

    def _fire_in(self, conn: Any, event: str, order: dict[str, Any], items: list[str] | None,
                 label: str | None, notify_customer: bool | None) -> FireResult:
        """Decide and write one fire inside the queue's transaction (writes last)."""
        rule = self.config.rule(event)
        remembered = self.queue.recall(conn, order["order_number"])
        base = memory.overlay(order, remembered)
        if event in CHANGE_STATUS_EVENTS and label is None:
            change = adopt_labels(event, base, order, items,
                                  remembered.labels() if remembered else None)
        else:
            change = apply_event(event, rule, base, items, label)
        result = FireResult(event, change.order, change.order_status, change.items,
                            from_memory=remembered is not None)
        update: dict[str, Any] = {"event": event, "order": change.order}
        if notify_customer is not None:
            update["notify_customer"] = bool(notify_customer)
        check_update(update)  # card and street data refused before any write
        if not result.changed:
            result.reason = "no label changed"
        elif not rule.notify:
            result.reason = "the event's notify flag is off"
        else:
            result.update = self.queue.insert(conn, [update])[0]
            result.queued = True
        if result.queued or not memory.is_current(remembered, change.order):
            self.queue.remember(conn, [(change.order, result.update)])
        return result

    def enqueue(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw update durably; fill update_id, sequence and occurred_at when absent.

        Its labels become the ones the client remembers for the order. An update
        holding payment or street-address data is refused (SensitiveDataError)
        before anything is written.
        """
        return self.enqueue_many([update])[0]

    def enqueue_many(self, updates: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Queue several raw updates in one durable transaction (all or none)."""
        filled = self.queue.enqueue_many(updates, remember=True)
        self._wake()
        return filled

    def remembered(self, order_number: str) -> dict[str, Any] | None:
        """Return what the client holds for an order (labels, last update, times), or None."""
        found = self.queue.remembered(order_number)
        if found is None:
            return None
        return {"order_number": found.order_number, "status": found.status,
                "items": dict(found.items), "last_update": found.last_update,
                "last_fired_at": now_rfc3339(found.touched_at),
                "forgotten_after": now_rfc3339(found.touched_at
                                               + self.config.memory_days * memory.DAY_S)}

    # -- status and dead letters -------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """Return the queue's state with the keys of `seom-client status --json`."""
        counts = self.queue.counts()
        oldest = counts["oldest_created_at"]
        return {
            "running": controller_running(self.queue.path),
            "pending": counts["pending"] + counts["inflight"],
            "oldest_pending_age_s": round(max(0.0, time.time() - oldest), 3) if oldest else None,
            "dead": counts["dead"],
            "paused": self.queue.get_meta("paused"),
            "last_success_at": self.queue.get_meta("last_success_at"),
            "last_error": self.queue.get_meta("last_error"),
        }

    def controller_info(self) -> dict[str, Any] | None:
        """Return the running controller's heartbeat record (pid, host, times) or None."""
        raw = self.queue.get_meta("controller")
        info: dict[str, Any] | None = json.loads(raw) if raw else None
        return info

    def dead_letters(self) -> list[dict[str, Any]]:
        """Return the dead-lettered updates with their errors."""
        return self.queue.dead()

    def retry_dead(self, ids: Iterable[int] | None = None) -> int:
        """Queue dead letters again (all, or the given ids); return how many."""
        count = self.queue.retry_dead(ids)
        self._wake()
        return count

    def drop_dead(self, ids: Iterable[int] | None = None) -> int:
        """Delete dead letters (all, or the given ids); return how many."""
        return self.queue.drop_dead(ids)

    # -- the controller ----------------------------------------------------------------------

    def controller(self, **kwargs: Any) -> Controller:
        """Return a new Controller for this client's queue (the caller must acquire() it)."""
        kwargs.setdefault("session", self._session)
        if self._rand is not None:
            kwargs.setdefault("rand", self._rand)
        return Controller(self.config, self.queue, **kwargs)

    def start(self) -> None:
        """Run the stack controller in a daemon thread of this process."""
        if self._thread and self._thread.is_alive():
            return
        controller = self.controller(reload_config=self._config_reloader())
        controller.acquire()  # raises ControllerLockedError if another process drains the queue
        self._controller, self._stop = controller, threading.Event()
        self._thread = threading.Thread(target=controller.serve, args=(self._stop,),
                                        name="seom-client-controller", daemon=True)
        self._thread.start()

    def _config_reloader(self) -> Callable[[], Config] | None:
        """Return how a paused controller re-reads the config file (None without a file).

        As `seom-client run` does, so a key or URL fixed in the file is picked up.
        """
        path = self.config.path
        if path is None:
            return None
        return lambda: Config.load(path)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the controller thread after its current batch and release the lock."""
        thread, stop, controller = self._thread, self._stop, self._controller
        if thread is None or stop is None or controller is None:
            return
        stop.set()
        controller.wake.set()
        thread.join(timeout)
        if not thread.is_alive():
            controller.release()
            self._thread = self._controller = None

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Wait until nothing is pending (dead letters aside); return False on timeout.

        Without a running controller anywhere, drain in the calling thread instead.
        """
        deadline = time.monotonic() + (timeout if timeout is not None else float("inf"))
        running_here = bool(self._thread and self._thread.is_alive())
        if not running_here and not controller_running(self.queue.path):
            controller = self.controller()
            try:
                controller.acquire()
            except ControllerLockedError:
                pass
            else:
                try:
                    controller.run(once=True)
                finally:
                    controller.release()
        while True:
            self._wake()
            counts = self.queue.counts()
            if counts["pending"] + counts["inflight"] == 0:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)

    def close(self) -> None:
        """Stop the controller thread (if any) and close the queue."""
        self.stop()
        self.queue.close()

    def _wake(self) -> None:
        """Tell an in-process controller that there is work."""
        if self._controller is not None:
            self._controller.wake.set()


