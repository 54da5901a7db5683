"""One update on its way into the queue: the shape check, the fields the queue fills, its JSON.

Everything here runs once per enqueued update, inside or just before the durable
transaction, so it is kept to plain dict and string work.
"""

import json
import os
import re
import time
from datetime import datetime, timezone
from typing import Any

from .errors import SensitiveDataError, UpdateError
from .screening import CARD_RUN, screen

MAX_BODY = 1024 * 1024              # 1 MiB per request (SPEC §3)
ENVELOPE = len('{"updates":[]}')
UPDATE_KEYS = frozenset({"update_id", "sequence", "occurred_at", "event", "notify_customer",
                         "order"})
UPDATE_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# A field path is named in an error only segment by segment, each an identifier or a list
# index: a key that is itself data (a pasted address or card number) shows as [key].
PATH_SEGMENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,39}|\d{1,7}")

# json.dumps builds a new encoder on every call that passes options; one built once
# encodes the same bytes.
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def now_rfc3339(epoch: float | None = None) -> str:
    """Return the current (or given) local time as RFC 3339 with offset and milliseconds."""
    moment = datetime.fromtimestamp(time.time() if epoch is None else epoch, timezone.utc)
    return moment.astimezone().isoformat(timespec="milliseconds")


def copy_tree(value: Any) -> Any:
    """Return a copy of JSON-shaped data with new dicts and lists all the way down.

    Strings, numbers, booleans and None are immutable and kept; a tuple becomes a list,
    as JSON reads it back. About four times faster than copy.deepcopy on a snapshot: it
    keeps no memo of objects seen, which JSON data (a tree, no cycles) does not need.
    """
    if isinstance(value, dict):
        return {key: copy_tree(child) for key, child in value.items()}
    if isinstance(value, (list, tuple)):
        return [copy_tree(child) for child in value]
    return value


def new_update_id() -> str:
    """Return a fresh update id: 32 hex characters, the time in milliseconds then 80 random bits.

    Ids made one after another sort together, so the unique index on update_id
    grows at its end and a drained batch is deleted from a few adjacent pages
    rather than from one page per row all over the index.
    """
    return f"{time.time_ns() // 1_000_000:012x}{os.urandom(10).hex()}"


def check_update(update: object) -> None:
    """Raise UpdateError unless update has the shape the queue needs."""
    if not isinstance(update, dict):
        raise UpdateError("an update must be a JSON object")
    if not UPDATE_KEYS.issuperset(update):
        unknown = set(update) - UPDATE_KEYS
        raise UpdateError(f"unknown update fields: {', '.join(sorted(unknown))}")
    order = update.get("order")
    if not isinstance(order, dict):
        raise UpdateError("the update has no 'order' object")
    number = order.get("order_number")
    if not isinstance(number, str) or not 1 <= len(number) <= 64:
        raise UpdateError("order.order_number must be a string of 1-64 characters")
    uid = update.get("update_id")
    if uid is not None and (not isinstance(uid, str) or not UPDATE_ID_RE.match(uid)):
        raise UpdateError("update_id must be 1-64 characters of A-Z a-z 0-9 . _ : -")
    seq = update.get("sequence")
    if seq is not None and (isinstance(seq, bool) or not isinstance(seq, int) or seq < 0):
        raise UpdateError("sequence must be an integer >= 0")
    occurred = update.get("occurred_at")
    if occurred is not None:
        _check_timestamp(occurred)
    refuse_sensitive(update)


def refuse_sensitive(update: dict[str, Any]) -> None:
    """Raise SensitiveDataError when an update holds payment or street-address data.

    The rule is the server's (seom_client.screening); the error names the fields,
    never their values.
    """
    found = screen(update)
    if found:
        raise SensitiveDataError({_safe_path(path): message for path, message in found.items()})


def _safe_path(path: str) -> str:
    """Return a field path fit to print: segments that are not plain names become [key]."""
    return ".".join(part if PATH_SEGMENT_RE.fullmatch(part) and not CARD_RUN.search(part)
                    else "[key]" for part in path.split("."))


def _check_timestamp(occurred: object) -> None:
    try:
        parsed: datetime | None = datetime.fromisoformat(str(occurred).replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise UpdateError("occurred_at must be an RFC 3339 timestamp with an offset")


def fill(update: dict[str, Any], seq: int, last_at: float) -> tuple[int, float]:
    """Fill update_id, sequence and occurred_at where absent; return the next (seq, last_at).

    ``seq`` is the persistent counter's value and ``last_at`` the latest time filled in
    so far: filled timestamps never go backwards (a clock stepped back by NTP would
    otherwise make the receiver call a newer snapshot stale and drop it).
    """
    if "update_id" not in update:
        update["update_id"] = new_update_id()
    if update.get("sequence") is None:
        update["sequence"] = seq
    seq = max(seq, update["sequence"] + 1)
    if update.get("occurred_at") is None:
        last_at = max(time.time(), last_at)
        update["occurred_at"] = now_rfc3339(last_at)
    return seq, last_at


def encode(update: dict[str, Any]) -> tuple[str, int]:
    """Return (body, size in bytes) of an update's stored JSON; refuse one too large to send."""
    body = _encode(update)
    size = len(body) if body.isascii() else len(body.encode("utf-8"))
    if size > MAX_BODY - ENVELOPE:
        raise UpdateError(f"update {update['update_id']} is {size} bytes; "
                          f"the limit is {MAX_BODY - ENVELOPE}")
    return body, size
