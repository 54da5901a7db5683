"""The Client: the order manager's entry point (fire events, enqueue, status, controller thread)."""

import json
import threading
import time
from dataclasses import dataclass, field

from .config import Config
from .controller import Controller, controller_running
from .errors import ControllerLockedError, EventError, UpdateError
from .events import CHANGE_STATUS_EVENTS, STANDARD_EVENTS, apply_event, diff_labels, label_snapshot
from .queue import Queue


@dataclass
class FireResult:
    """What fire() did: the new snapshot, the labels that changed, and whether an update was queued."""

    event: str
    order: dict
    order_status: tuple | None = None
    items: dict = field(default_factory=dict)
    queued: bool = False
    update: dict | None = None
    reason: str = ""

    @property
    def changed(self):
        """Return True when any label changed."""
        return self.order_status is not None or bool(self.items)


class Client:
    """An order manager's link to the OSS: labels, event table, durable queue and controller."""

    def __init__(self, config, *, session=None, rand=None):
        if not isinstance(config, Config):
            config = Config.load(config)
        self.config = config
        self.queue = Queue(config.resolved_queue_path())
        self._session = session
        self._rand = rand
        self._controller = None
        self._thread = None
        self._stop = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- events ------------------------------------------------------------------------------

    def fire(self, event, order, items=None, *, label=None, notify_customer=None):
        """Apply a status event to an order snapshot; queue an update when one is due.

        ``items`` names the line ids an Item/Drop Ship event acts on (None: every
        line). ``label`` is the label the user just set, for the Change Status
        events; without it the snapshot is taken to carry the new label already
        and is compared with the labels last seen for that order.
        """
        if event not in STANDARD_EVENTS:
            raise EventError(f"unknown event {event!r}")
        if not isinstance(order, dict) or not order.get("order_number"):
            raise UpdateError("the order snapshot needs an order_number")
        if not self.config.use_status_updates:
            return FireResult(event, order, reason="status updates are switched off")
        rule = self.config.rule(event)
        change = apply_event(event, rule, order, items, label)
        number = order["order_number"]
        if event in CHANGE_STATUS_EVENTS and label is None:
            change = diff_labels(event, self.queue.get_labels(number), change.order)
            if event == "Item Change Status":
                change.order_status = None
                if items is not None:
                    wanted = {str(i) for i in items}
                    change.items = {k: v for k, v in change.items.items() if k in wanted}
        result = FireResult(event, change.order, change.order_status, change.items)
        if not result.changed:
            result.reason = "no label changed"
            return result
        labels = {number: label_snapshot(change.order)}
        if not rule.notify:
            result.reason = "the event's notify flag is off"
            self.queue.put_labels(number, labels[number])
            return result
        update = {"event": event, "order": change.order}
        if notify_customer is not None:
            update["notify_customer"] = bool(notify_customer)
        result.update = self.queue.enqueue_many([update], labels=labels)[0]
        result.queued = True
        self._wake()
        return result

    def enqueue(self, update):
        """Queue a raw update durably; fill update_id, sequence and occurred_at when absent."""
        filled = self.queue.enqueue(update)
        self._wake()
        return filled

    def enqueue_many(self, updates):
        """Queue several raw updates in one durable transaction."""
        filled = self.queue.enqueue_many(updates)
        self._wake()
        return filled

    # -- status and dead letters -------------------------------------------------------------

    def status(self):
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

    def controller_info(self):
        """Return the running controller's heartbeat record (pid, host, times) or None."""
        raw = self.queue.get_meta("controller")
        return json.loads(raw) if raw else None

    def dead_letters(self):
        """Return the dead-lettered updates with their errors."""
        return self.queue.dead()

    def retry_dead(self, ids=None):
        """Queue dead letters again (all, or the given ids); return how many."""
        count = self.queue.retry_dead(ids)
        self._wake()
        return count

    def drop_dead(self, ids=None):
        """Delete dead letters (all, or the given ids); return how many."""
        return self.queue.drop_dead(ids)

    # -- the controller ----------------------------------------------------------------------

    def controller(self, **kwargs):
        """Return a new Controller for this client's queue (the caller must acquire() it)."""
        kwargs.setdefault("session", self._session)
        if self._rand is not None:
            kwargs.setdefault("rand", self._rand)
        return Controller(self.config, self.queue, **kwargs)

    def start(self):
        """Run the stack controller in a daemon thread of this process."""
        if self._thread and self._thread.is_alive():
            return
        controller = self.controller(reload_config=self._config_reloader())
        controller.acquire()  # raises ControllerLockedError if another process drains the queue
        self._controller, self._stop = controller, threading.Event()
        self._thread = threading.Thread(target=controller.serve, args=(self._stop,),
                                        name="seom-client-controller", daemon=True)
        self._thread.start()

    def _config_reloader(self):
        """Return how a paused controller re-reads the config file (None without a file).

        As `seom-client run` does, so a key or URL fixed in the file is picked up.
        """
        path = self.config.path
        if path is None:
            return None
        return lambda: Config.load(path)

    def stop(self, timeout=30.0):
        """Stop the controller thread after its current batch and release the lock."""
        if not self._thread:
            return
        self._stop.set()
        self._controller.wake.set()
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self._controller.release()
            self._thread = self._controller = None

    def flush(self, timeout=30.0):
        """Wait until nothing is pending (dead letters aside); return False on timeout.

        Without a running controller anywhere, drain in the calling thread instead.
        """
        deadline = time.monotonic() + (timeout if timeout is not None else float("inf"))
        if not (self._thread and self._thread.is_alive()) and not controller_running(self.queue.path):
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

    def close(self):
        """Stop the controller thread (if any) and close the queue."""
        self.stop()
        self.queue.close()

    def _wake(self):
        """Tell an in-process controller that there is work."""
        if self._controller is not None:
            self._controller.wake.set()


