"""The client's memory of each order: the labels it last set, its last queued update, when.

The memory lives in the queue's SQLite file and is written in the same transaction as
the update it goes with, so after a crash at any instant the two agree: an update on the
stack always has its labels remembered, and labels are never remembered for an update
that was lost. A caller that keeps no state (a script, the CLI) thus fires every event on
the labels the client itself last set, never on the older ones a stale file may carry.

Only labels, line ids and the last update's ids and times are kept: no names, no
verification factors. An order no event touched for ``memory_days`` is forgotten (read
as absent at once, deleted on the next write).
"""

import json
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any

from .updates import copy_tree, now_rfc3339

DAY_S = 86400.0
# An event that changes nothing rewrites an order's row (to mark it touched) at most this
# often: a repeated event then costs a read, not a write and its fsync.
TOUCH_EVERY_S = 3600.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS order_memory (
    order_number TEXT PRIMARY KEY,
    status       TEXT,
    items        TEXT NOT NULL,
    last_update  TEXT,
    touched_at   REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS order_memory_touched ON order_memory (touched_at)
"""

UPSERT_SQL = ("INSERT INTO order_memory (order_number, status, items, last_update, touched_at) "
              "VALUES (?, ?, ?, ?, ?) ON CONFLICT (order_number) DO UPDATE SET "
              "status = COALESCE(excluded.status, order_memory.status), items = excluded.items, "
              "last_update = COALESCE(excluded.last_update, order_memory.last_update), "
              "touched_at = excluded.touched_at")
SELECT_SQL = ("SELECT status, items, last_update, touched_at FROM order_memory "
              "WHERE order_number = ? AND touched_at >= ?")


@dataclass
class Remembered:
    """What the client holds for one order."""

    order_number: str
    status: str | None
    items: dict[str, str] = field(default_factory=dict)  # line_id -> label
    last_update: dict[str, Any] | None = None            # ids and times of the last queued update
    touched_at: float = 0.0

    def labels(self) -> dict[str, Any]:
        """Return the labels as {'order': status, 'items': {line_id: status}}."""
        return {"order": self.status, "items": dict(self.items)}


def install(conn: sqlite3.Connection) -> None:
    """Create the memory's table (call inside the queue's schema transaction).

    Files of earlier versions kept a ``last_labels`` table for the Change Status
    events only: its rows are carried over, as touched now.
    """
    for stmt in filter(str.strip, SCHEMA.split(";")):
        conn.execute(stmt)
    old = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                       "AND name = 'last_labels'").fetchone()
    if old:
        now = time.time()
        for number, text in conn.execute("SELECT order_number, labels FROM last_labels").fetchall():
            labels = json.loads(text)
            conn.execute("INSERT OR IGNORE INTO order_memory (order_number, status, items, "
                         "touched_at) VALUES (?, ?, ?, ?)",
                         (number, labels.get("order"), json.dumps(labels.get("items") or {}), now))
        conn.execute("DROP TABLE last_labels")


def cutoff(memory_days: float, now: float | None = None) -> float:
    """Return the epoch before which an untouched order counts as forgotten."""
    return (time.time() if now is None else now) - memory_days * DAY_S


def recall(conn: sqlite3.Connection, order_number: str, since: float) -> Remembered | None:
    """Return what is remembered of an order touched at or after ``since``, or None."""
    row = conn.execute(SELECT_SQL, (order_number, since)).fetchone()
    if row is None:
        return None
    status, items, last_update, touched_at = row
    return Remembered(order_number, status, json.loads(items),
                      json.loads(last_update) if last_update else None, touched_at)


def overlay(order: dict[str, Any], remembered: Remembered | None) -> dict[str, Any]:
    """Return a copy of an order snapshot carrying the remembered labels.

    Everything else (lines, quantities, dates, tracking) stays as the snapshot has
    it; a line the memory does not know keeps the snapshot's label. This is where a
    fire's caller-owned snapshot enters, and the one place it is copied whole: what
    the client returns and stores never shares a part with the caller's dict.
    """
    base: dict[str, Any] = copy_tree(order)
    if remembered is None:
        return base
    if remembered.status:
        base["status"] = remembered.status
    for line in base.get("items") or []:
        if isinstance(line, dict):
            label = remembered.items.get(str(line.get("line_id")))
            if label:
                line["status"] = label
    return base


def _labels(order: dict[str, Any]) -> tuple[str | None, dict[str, str]]:
    """Return (status, {line_id: label}) of a snapshot as the memory stores them."""
    items: dict[str, str] = {}
    for line in order.get("items") or []:
        if isinstance(line, dict) and isinstance(line.get("status"), str) and line["status"]:
            items[str(line.get("line_id"))] = line["status"]
    status = order.get("status")
    return (status if isinstance(status, str) and status else None), items


def is_current(remembered: Remembered | None, order: dict[str, Any],
               now: float | None = None) -> bool:
    """Tell whether the memory already holds this snapshot's labels, touched lately."""
    if remembered is None:
        return False
    now = time.time() if now is None else now
    status, items = _labels(order)
    return (now - remembered.touched_at < TOUCH_EVERY_S and items == remembered.items
            and status in (None, remembered.status))


def summary(update: dict[str, Any], queued_at: float) -> dict[str, Any]:
    """Return the part of a queued update the memory keeps: its ids, event and times."""
    return {"update_id": update["update_id"], "sequence": update["sequence"],
            "occurred_at": update["occurred_at"], "event": update.get("event"),
            "status": update["order"].get("status"), "queued_at": now_rfc3339(queued_at)}


def remember(conn: sqlite3.Connection, order: dict[str, Any], now: float,
             update: dict[str, Any] | None = None) -> None:
    """Record an order snapshot's labels (and the update queued with them) as touched now."""
    status, items = _labels(order)
    last = json.dumps(summary(update, now)) if update is not None else None
    conn.execute(UPSERT_SQL, (order["order_number"], status, json.dumps(items), last, now))


def forget(conn: sqlite3.Connection, since: float) -> int:
    """Delete every order untouched since ``since``; return how many (an index range scan)."""
    return conn.execute("DELETE FROM order_memory WHERE touched_at < ?", (since,)).rowcount
