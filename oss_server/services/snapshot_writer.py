"""Write a batch's snapshots with a handful of bulk statements instead of per-object ORM.

A batch is planned in memory first: each applied snapshot updates the order's
state here (so a later update of the same order in the same batch sees it), and
adds its history rows. ``write`` then stores the final state of every touched
order with one statement per table: an INSERT of the new orders (their ids read
back by key), one executemany UPDATE of the changed ones, delete-and-insert of
their lines and tracking, and INSERTs of history, receipts and activity, all
through ``storage.bulk_writes`` (rows as tuples, COPY on PostgreSQL). All of it runs on the
session's connection, inside the caller's transaction.
"""
from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass, field
from datetime import datetime, timezone

from ..models import Order, Store
from ..models.order_fields import copy_columns
from ..schemas.fields import CONTROL_CHARACTERS
from ..security.factors import FactorHasher, normalise_shopper_email
from ..storage import DbSession
from ..storage.keyed_reads import Pending
from ..storage.orders import (
    insert_orders,
    read_line_states,
    read_order_states,
    replace_orders,
    send_order_states,
    write_snapshots,
)


def ordering_key(occurred_at: datetime, sequence: int) -> tuple[datetime, int]:
    """The snapshot ordering key: an older or equal key never overwrites a newer one."""
    return occurred_at.astimezone(timezone.utc), sequence


@dataclass(eq=False)
class OrderState:
    """What the batch knows of one order: as stored, then as each applied update left it."""

    id: int | None
    key: tuple[datetime, int] | None
    status: str | None
    line_status: dict[str, str | None]
    row: dict | None = None           # the orders columns to write, once applied
    items: list[dict] = field(default_factory=list)
    tracking: list[dict] = field(default_factory=list)
    history: list[dict] = field(default_factory=list)


class SnapshotWriter:
    """Plan a batch's writes for one store, then issue them in bulk."""

    def __init__(self, session: DbSession, store: Store, factor_key: str, now: datetime):
        self.session, self.store, self.now = session, store, now
        # Read once: every row of the batch carries them, and an ORM attribute read costs.
        self.store_id, self.keep_email = store.id, store.shopper_emails
        self.hasher = FactorHasher(factor_key)
        self.orders: dict[str, OrderState] = {}
        self.receipts: list[dict] = []
        self.activity: list[dict] = []

    def send_load(self, keys: set[str]) -> Pending:
        """Start reading the stored orders named by *keys* (see ``storage.keyed_reads.ahead``)."""
        return send_order_states(self.session, self.store_id, keys)

    def load(self, keys: set[str], early: Pending | None = None,
             asked: Set[str] = frozenset()) -> None:
        """Take in the stored state of the orders named by *keys*, with their lines.

        *early* is the read ``send_load`` started for the keys in *asked*; keys it did
        not cover are read now, then the lines of every stored order in one query.
        """
        rows = early.rows() if early is not None else []
        missed = keys - asked
        if missed:
            rows += read_order_states(self.session, self.store_id, missed)
        by_id = {}
        for order_id, key, status, occurred_at, sequence in rows:
            state = OrderState(order_id, ordering_key(occurred_at, sequence), status, {})
            self.orders[key] = by_id[order_id] = state
        for order_id, line_id, status in read_line_states(self.session, by_id):
            by_id[order_id].line_status[line_id] = status

    def state(self, key: str) -> OrderState | None:
        """Return the order's state as the batch currently sees it (None: not stored)."""
        return self.orders.get(key)

    def apply(self, key: str, data: dict, ordered: tuple | None = None) -> tuple[bool, str | None]:
        """Plan *data*'s snapshot over order *key*; return (label changed, previous label).

        *ordered* is the update's ``ordering_key`` when the caller has it already.
        """
        state = self.orders.get(key)
        if state is None:
            state = self.orders[key] = OrderState(None, None, None, {})
        snapshot, event, occurred_at = data["order"], data.get("event"), data["occurred_at"]
        previous = state.status
        state.key = ordered or ordering_key(occurred_at, data["sequence"])
        state.row = self._order_row(data)
        state.status = snapshot["status"]
        changed = previous != state.status
        if changed:
            state.history.append(_change(None, previous, state.status, event, occurred_at))
        state.items, line_status, stored_status = [], {}, state.line_status
        for position, incoming in enumerate(snapshot.get("items") or []):
            get, line_id = incoming.get, incoming["line_id"]
            status = get("status")
            state.items.append({
                "line_id": line_id, "position": position, "qty_ordered": get("qty_ordered", 0),
                "qty_shipped": get("qty_shipped", 0), "qty_needed": get("qty_needed", 0),
                "sku": get("sku"), "name": get("name"), "status": status,
                "expected_ship_date": get("expected_ship_date"),
                "actual_ship_date": get("actual_ship_date")})
            old_status = stored_status.get(line_id)
            if status and status != old_status:
                state.history.append(_change(line_id, old_status, status, event, occurred_at))
            line_status[line_id] = status
        state.line_status = line_status
        state.tracking = [{"position": i, "number": t["number"].strip(),
                           "carrier": t.get("carrier"), "shipped_on": t.get("shipped_on")}
                          for i, t in enumerate(snapshot.get("tracking") or [])]
        return changed, previous

    def _order_row(self, data: dict) -> dict:
        """The orders columns of *data*'s snapshot (``order_fields.ORDER_FIELDS``)."""
        snapshot = data["order"]
        bill_to = snapshot["bill_to"]
        row = copy_columns(data)
        # The fields stored other than as copied, by how (see order_fields).
        cart = (snapshot.get("cart_order_number") or "").strip() or None
        email = bill_to.get("email")
        row["order_number"] = snapshot["order_number"].strip()
        row["cart_order_number"], row["cart_key"] = cart, cart.casefold() if cart else None
        row["email"] = normalise_shopper_email(email) if email and self.keep_email else None
        row.update(self.hasher.bill_to(bill_to.get("zip"), email, bill_to.get("phone")))
        row["updated_at"] = self.now
        return row

    def receipt(self, update_id: str, outcome: str) -> None:
        """Remember *update_id* so a resend is a duplicate."""
        self.receipts.append({"store_id": self.store_id, "update_id": update_id,
                              "outcome": outcome, "received_at": self.now})

    def record(self, data: dict, outcome: str, errors: dict | None = None) -> None:
        """Add one activity row (what the integrator reads in the portal)."""
        if errors is None:
            # Validated: the ids and the event are already short, printable text.
            self.activity.append({
                "store_id": self.store_id, "outcome": outcome, "received_at": self.now,
                "errors": None, "update_id": data["update_id"],
                "order_number": data["order"]["order_number"], "event": data.get("event"),
            })
            return
        order = data.get("order")
        if not isinstance(order, dict):
            order = {}
        self.activity.append({
            "store_id": self.store_id, "outcome": outcome, "received_at": self.now,
            "errors": _printable_errors(errors), "update_id": _clip(data.get("update_id")),
            "order_number": _clip(order.get("order_number")),
            # A refused event may be the refused value itself (a card number in it): never
            # kept. Ids and order numbers are kept so the integrator can find the update.
            "event": None if "event" in errors else _clip(data.get("event")),
        })

    def write(self) -> dict[str, int]:
        """Store every planned row; return the ids of the orders written, by key."""
        touched = [(key, state, state.row) for key, state in self.orders.items()
                   if state.row is not None]
        new = [(key, state, row) for key, state, row in touched if state.id is None]
        stored = [(state.id, row) for _key, state, row in touched if state.id is not None]
        ids = {key: state.id for key, state, _row in touched if state.id is not None}
        if new:
            rows = [{**row, "store_id": self.store.id, "order_key": key,
                     "created_at": self.now} for key, _state, row in new]
            inserted = insert_orders(self.session, self.store.id, rows)
            for key, state, _row in new:
                state.id = ids[key] = inserted[key]
        if stored:
            replace_orders(self.session, [{**row, "id": order_id} for order_id, row in stored])
        items: list[dict] = []
        tracking: list[dict] = []
        history: list[dict] = []
        for key, state, _row in touched:
            # The rows are the writer's own: they take their order's id in place.
            for row in (*state.items, *state.tracking, *state.history):
                row["order_id"] = ids[key]
            items += state.items
            tracking += state.tracking
            history += state.history
        write_snapshots(self.session, items, tracking, history, self.receipts, self.activity)
        self._expire_loaded([order_id for order_id, _row in stored])
        return {key: ids[key] for key, _state, _row in touched}

    def _expire_loaded(self, order_ids: list[int]) -> None:
        # Orders this session already holds would otherwise show their old snapshot.
        # Judge by identity key: reading .id could load a row another transaction removed.
        wanted = set(order_ids)
        identity_map = self.session.identity_map
        for cls, ident, _token in list(identity_map.keys()):
            if cls is Order and ident[0] in wanted:
                obj = identity_map.get((cls, ident, _token))
                if obj is not None:  # None: collected since (the map holds objects weakly)
                    self.session.expire(obj)


def _change(line_id, from_status, to_status, event, occurred_at) -> dict:
    return {"line_id": line_id, "from_status": from_status, "to_status": to_status,
            "event": event, "occurred_at": occurred_at}


def _clip(value) -> str | None:
    return _printable(value[:64]) if isinstance(value, str) else None


def _printable(text: str) -> str:
    # A rejected update's raw values are kept for the integrator to read; PostgreSQL text
    # and JSON cannot hold a NUL, and no control character helps a reader.
    return CONTROL_CHARACTERS.sub("\ufffd", text)


def _printable_errors(errors: dict | None) -> dict | None:
    if errors is None:
        return None
    return {_printable(str(k)): _printable(v) if isinstance(v, str) else v
            for k, v in errors.items()}
