"""Ingest wire-protocol v1 batches: validate, deduplicate, order and apply snapshots."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeGuard

from marshmallow import ValidationError
from sqlalchemy import select

from ..models import Order, Store, utcnow
from ..schemas.fast_path import fast_path_load
from ..schemas.fields import flatten_errors
from ..schemas.screening import screen
from ..schemas.updates import UpdateIn
from ..storage import DbSession
from ..storage.ingestion import lock_for_batch, retry_on_conflict
from ..storage.keyed_reads import Pending, ahead, overlaps
from ..storage.orders import read_seen_update_ids, send_seen_update_ids
from .email_outbox import StatusLinks, queue_status_emails
from .orders import order_key
from .snapshot_writer import SnapshotWriter, ordering_key

log = logging.getLogger(__name__)

_update_schema = UpdateIn()


@dataclass
class StatusChangeNotice:
    """An applied update that changed the order's label (what shopper emails react to)."""

    order: Order
    update: dict
    from_status: str | None


@dataclass
class BatchResult:
    results: list[dict] = field(default_factory=list)
    status_changes: list[StatusChangeNotice] = field(default_factory=list)


def validate_update(raw) -> tuple[dict | None, dict[str, str] | None]:
    """Validate one raw UPDATE; return (data, None) or (None, {path: message})."""
    data = fast_path_load(raw)
    if data is not None:
        return data, None
    # Not provably valid: the schema and the screening give the verdict and the messages.
    if not isinstance(raw, dict):
        return None, {"_schema": "Each update must be a JSON object."}
    errors = screen(raw)
    try:
        data = _update_schema.load(raw)
    except ValidationError as exc:
        errors = {**flatten_errors(exc.messages), **errors}
        data = None
    if errors:
        # The field and the rule are logged, never the value.
        log.info("update rejected: fields %s", ", ".join(sorted(errors)))
        return None, errors
    return data, None


def names_in_batch(raw_updates: list) -> tuple[set[str], set[str]]:
    """The update ids and order keys a raw batch names, before validation says which count.

    Reads of these can start while the batch is validated, so only plain values are
    taken: short printable ASCII (a NUL or a lone surrogate would fail the whole read, not
    just its update). An id or key validation accepts or shapes otherwise is read after.
    """
    ids: set[str] = set()
    keys: set[str] = set()
    for raw in raw_updates:
        if not isinstance(raw, dict):
            continue
        update_id, order = raw.get("update_id"), raw.get("order")
        if _plain(update_id):
            ids.add(update_id)
        number = order.get("order_number") if isinstance(order, dict) else None
        if _plain(number):
            keys.add(order_key(number))
    return ids, keys


def _plain(value: object) -> TypeGuard[str]:
    return (isinstance(value, str) and len(value) <= 64 and value.isascii()
            and value.isprintable())


def seen_update_ids(session: DbSession, store: Store, updates: list[dict], early: Pending,
                    asked: set[str]) -> set[str]:
    """Return the batch's update ids the store already holds receipts for.

    *early* is the read of the ids in *asked*; any valid id it did not cover is read now.
    """
    seen = {update_id for (update_id,) in early.rows()}
    missed = {u["update_id"] for u in updates} - asked
    return seen | read_seen_update_ids(session, store.id, missed)


def apply_updates(session: DbSession, store: Store, raw_updates: list, *, factor_key: str,
                  now: datetime | None = None, links: StatusLinks | None = None) -> BatchResult:
    """Apply a batch of raw UPDATEs to *store*; one result per update, in request order.

    *factor_key* keys the verification-factor hashes; it comes from the
    environment, never from the database. With *links*, shopper emails asked for
    are queued in this same transaction, each in its own savepoint so that one that cannot
    be written never fails the batch; without, none are (demo data, imports). Nothing else
    here can fail for one update alone: validation refuses whatever a column could not
    hold (lengths, 64-bit numbers, dates, one plain email address) before any write. A
    batch that loses a race to insert the same order or update id is redone once.
    """
    now = now or utcnow()
    writer = SnapshotWriter(session, store, factor_key, now)
    # Where nothing overlaps (SQLite), the reads wait for validation to name them.
    ids, keys = names_in_batch(raw_updates) if overlaps(session) else (set(), set())
    with ahead(session):
        # On PostgreSQL the server looks the batch's receipts and orders up meanwhile.
        receipts, orders = send_seen_update_ids(session, store.id, ids), writer.send_load(keys)
        checked = [validate_update(raw) for raw in raw_updates]
    # Concurrency (the SQLite write lock, row locks, conflicting inserts) is storage's.
    lock_for_batch(session)

    def write(first: bool) -> BatchResult:
        # A redo reads everything again: what the other worker stored is then seen.
        if first:
            return _write_batch(session, store, writer, raw_updates, checked, links,
                                (receipts, ids, orders, keys))
        return _write_batch(session, store, SnapshotWriter(session, store, factor_key, now),
                            raw_updates, checked, links, None)

    return retry_on_conflict(session, write)


def _write_batch(session: DbSession, store: Store, writer: SnapshotWriter, raw_updates: list,
                 checked: list, links: StatusLinks | None, early: tuple | None) -> BatchResult:
    """Read what the validated batch changes, plan each update and write them all."""
    valid = [data for data, errors in checked if data is not None]
    # Each valid update's order key, computed once.
    order_keys = [None if data is None else order_key(data["order"]["order_number"])
                  for data, _errors in checked]
    wanted = {key for key in order_keys if key is not None}
    if early is not None:
        receipts, ids, orders, keys = early
        seen = seen_update_ids(session, store, valid, receipts, ids)
        writer.load(wanted, orders, keys)
    else:
        seen = read_seen_update_ids(session, store.id, {u["update_id"] for u in valid})
        writer.load(wanted)
    batch = BatchResult()
    notices: list[tuple[str, dict, str | None]] = []
    for raw, (data, errors), key in zip(raw_updates, checked, order_keys):
        if data is None or key is None:  # key is None exactly when data is
            update_id = raw.get("update_id") if isinstance(raw, dict) else None
            update_id = update_id if isinstance(update_id, str) and len(update_id) <= 64 else None
            batch.results.append({"update_id": update_id, "result": "rejected", "errors": errors})
            writer.record(raw if isinstance(raw, dict) else {}, "rejected", errors)
            continue
        outcome = _apply_one(writer, data, key, seen, notices)
        batch.results.append({"update_id": data["update_id"], "result": outcome})
        writer.record(data, outcome)
    ids = writer.write()
    batch.status_changes = _notices(session, ids, notices)
    if links is not None:
        # Same transaction as the snapshots: a batch that rolls back queues no email.
        queue_status_emails(session, store, batch.status_changes, links)
    return batch


def _apply_one(writer: SnapshotWriter, data: dict, key: str, seen: set, notices: list) -> str:
    update_id = data["update_id"]
    if update_id in seen:
        return "duplicate"
    seen.add(update_id)
    state = writer.state(key)
    incoming = ordering_key(data["occurred_at"], data["sequence"])
    if state is not None and state.key is not None and incoming <= state.key:
        outcome = "stale"
    else:
        changed, previous = writer.apply(key, data, incoming)
        if changed and data.get("notify_customer"):
            notices.append((key, data, previous))
        outcome = "applied"
    writer.receipt(update_id, outcome)
    return outcome


def _notices(session: DbSession, ids: dict[str, int], notices: list) -> list[StatusChangeNotice]:
    """Turn planned notices into StatusChangeNotice objects carrying the stored Order."""
    if not notices:
        return []
    wanted = {ids[key] for key, _data, _previous in notices}
    # populate_existing: the rows were just written past the ORM, so reload them.
    orders = {order.id: order for order in session.scalars(
        select(Order).where(Order.id.in_(wanted)).execution_options(populate_existing=True))}
    return [StatusChangeNotice(orders[ids[key]], data, previous)
            for key, data, previous in notices]
