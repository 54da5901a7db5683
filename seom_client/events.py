"""Status labels, the status-event table and the rules that apply an event to an order."""

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from .errors import EventError

#: The 30 standard status events, names exact (SPEC §2).
STANDARD_EVENTS = (
    "Drop Ship Canceled", "Drop Ship Ordered", "Item Add", "Item Cancel",
    "Item Change Status", "Item Exchange", "Item Fill Backorder",
    "Item Force Backorder", "Item Return", "Item Revise",
    "Item Set Expected Ship Date", "Item Set Actual Ship Date", "Item Unreturn",
    "Order Add Tracking Number", "Order Approve", "Order Cancel",
    "Order Cancel Back Order", "Order Change Status", "Order Credit Issued",
    "Order Edit Tracking Number", "Order Force Backorder", "Order Fill Backorder",
    "Order Import", "Order Pack", "Order Payment Edit", "Order Payment Received",
    "Order Payment Void", "Order Set Actual Ship Date", "Order Unapprove",
    "Order Uncancel",
)
CHANGE_STATUS_EVENTS = ("Item Change Status", "Order Change Status")
MAX_LABEL = 64


@dataclass(frozen=True)
class EventRule:
    """One row of the event table: labels to set (empty = leave as is) and the notify flag."""

    order_status: str = ""
    item_status: str = ""
    notify: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Return the row as stored in the config file."""
        return {"order_status": self.order_status, "item_status": self.item_status,
                "notify": self.notify}


@dataclass
class Change:
    """What an event did to an order: the new snapshot and the labels that moved."""

    event: str
    order: dict[str, Any]
    # (old, new) when the order label changed
    order_status: tuple[str | None, str] | None = None
    # line_id -> (old, new)
    items: dict[str, tuple[str | None, str]] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        """Return True when any label changed."""
        return self.order_status is not None or bool(self.items)


def load_defaults() -> tuple[list[str], dict[str, EventRule]]:
    """Return (labels, events) of the shipped default table."""
    text = resources.files(__package__).joinpath("defaults.json").read_text("utf-8")
    data = json.loads(text)
    return list(data["labels"]), {name: EventRule(**row) for name, row in data["events"].items()}


def is_item_event(event: str) -> bool:
    """Return True for events that act on named line items."""
    return event.startswith(("Item ", "Drop Ship "))


def validate_label(label: object) -> None:
    """Raise EventError unless label is a usable label string."""
    if not isinstance(label, str) or not label.strip() or len(label) > MAX_LABEL:
        raise EventError(f"a label must be 1-{MAX_LABEL} characters, got {label!r}")


def rule_from_dict(event: str, row: Mapping[str, Any]) -> EventRule:
    """Build an EventRule from a config row, rejecting unknown events and keys."""
    if event not in STANDARD_EVENTS:
        raise EventError(f"unknown event {event!r}")
    extra = set(row) - {"order_status", "item_status", "notify"}
    if extra:
        raise EventError(f"event {event!r}: unknown keys {sorted(extra)}")
    return EventRule(str(row.get("order_status") or ""), str(row.get("item_status") or ""),
                     bool(row.get("notify", False)))


def _targets(event: str, order: dict[str, Any],
             items: Iterable[object] | None) -> list[dict[str, Any]]:
    """Return the line dicts an event acts on."""
    lines = order.get("items") or []
    if not is_item_event(event) or items is None:
        return list(lines)  # Order events, and Item events naming no lines, act on every line
    wanted = [str(i) for i in items]
    by_id = {str(line.get("line_id")): line for line in lines}
    missing = [i for i in wanted if i not in by_id]
    if missing:
        raise EventError(f"order has no line(s) {', '.join(missing)}")
    return [by_id[i] for i in wanted]


def _writable(order: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of a snapshot with the parts an event writes made new.

    The order dict, its items list and each line dict are new; everything below them
    (bill_to, tracking, a line's nested values) is shared with ``order`` and only read.
    """
    new = dict(order)
    lines = order.get("items")
    if isinstance(lines, (list, tuple)):
        new["items"] = [dict(line) if isinstance(line, dict) else line for line in lines]
    return new


def apply_event(event: str, rule: EventRule, order: dict[str, Any],
                items: Iterable[object] | None = None, label: str | None = None) -> Change:
    """Apply one event to a copy of an order snapshot and return the Change.

    ``order`` is left as it is; the Change's snapshot shares the values the event
    does not write with it (the client passes a snapshot it copied itself).

    For the Change Status events ``label`` is the label the user just set; when
    it is None the snapshot is taken to carry it already (nothing is applied).
    """
    if event not in STANDARD_EVENTS:
        raise EventError(f"unknown event {event!r}")
    new = _writable(order)
    targets = _targets(event, new, items)
    if event in CHANGE_STATUS_EVENTS:
        order_label = label if event == "Order Change Status" else None
        item_label = label if event == "Item Change Status" else None
    else:
        order_label, item_label = rule.order_status or None, rule.item_status or None
    for value in (order_label, item_label):
        if value is not None:
            validate_label(value)
    change = Change(event, new)
    if order_label is not None and new.get("status") != order_label:
        change.order_status = (new.get("status"), order_label)
        new["status"] = order_label
    if item_label is not None:
        for line in targets:
            if line.get("status") != item_label:
                change.items[str(line.get("line_id"))] = (line.get("status"), item_label)
                line["status"] = item_label
    if event == "Item Set Expected Ship Date" and not (rule.order_status or rule.item_status):
        # No label set: the event is silent and must not leak a date into an update.
        new.pop("expected_ship_date", None)
        for line in targets:
            line.pop("expected_ship_date", None)
    return change


def adopt_labels(event: str, base: dict[str, Any], order: dict[str, Any],
                 items: Iterable[object] | None = None,
                 before: dict[str, Any] | None = None) -> Change:
    """Return the Change of a Change Status event fired without a label.

    The user has set the new label in the order manager, so the snapshot ``order``
    carries it: the order's label (Order Change Status) or the named lines' labels
    (Item Change Status) are taken from it onto ``base``, the snapshot with the
    labels the client remembers; every other label stays as remembered. ``before``
    is that memory's labels, None when the client knows nothing of the order: then
    every label taken counts as changed, so a first event reaches the receiver.
    Neither dict is changed; the Change's snapshot shares what it does not write
    with ``base``.
    """
    new = _writable(base)
    change = Change(event, new)
    if event == "Order Change Status":
        label = order.get("status")
        old = before["order"] if before else None
        if label is not None:
            validate_label(label)
            if label != old:
                change.order_status = (old, label)
            new["status"] = label
        return change
    given = {str(line.get("line_id")): line.get("status")
             for line in order.get("items") or [] if isinstance(line, dict)}
    for line in _targets(event, new, items):
        line_id = str(line.get("line_id"))
        label = given.get(line_id)
        if label is None:
            continue
        validate_label(label)
        old = before["items"].get(line_id) if before else None
        if label != old:
            change.items[line_id] = (old, label)
        line["status"] = label
    return change


def check_table(labels: Iterable[str], events: Mapping[str, EventRule]) -> list[str]:
    """Return warnings about the event table (missing events, unknown or clashing labels)."""
    warnings: list[str] = []
    known = set(labels)
    for name in STANDARD_EVENTS:
        if name not in events:
            warnings.append(f"{name}: missing from the event table (it will change nothing)")
    seen: dict[str, dict[str, list[str]]] = {"order": {}, "item": {}}
    for name in STANDARD_EVENTS:
        rule = events.get(name)
        if rule is None:
            continue
        for level, value in (("order", rule.order_status), ("item", rule.item_status)):
            if not value:
                continue
            if name in CHANGE_STATUS_EVENTS:
                warnings.append(f"{name}: its {level} label {value!r} is ignored "
                                "(the new label is the one the user sets)")
                continue
            if value not in known:
                warnings.append(f"{name}: {level} label {value!r} is not in the label list")
            if rule.notify:
                seen[level].setdefault(value, []).append(name)
    for level, mapping in seen.items():
        for value, names in mapping.items():
            if len(names) > 1:
                warnings.append(
                    f"{' and '.join(names)} all set {level} label {value!r}: when one follows "
                    "another the second changes nothing, so no update is sent for it")
    return warnings
