"""Bulk-load realistic orders fast: driver-level executemany (SQLite) or COPY (PostgreSQL).

Each order has 3 lines, 1 tracking number and 5 history rows, like the status
page scenario. Rows go in with explicit ids, past the ORM, in chunks; the loader
is the only writer while it runs.
"""
from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta

from sqlalchemy import select, text

from .workload import ITEM_LABELS, ORDER_LABELS, PRODUCTS, ups_number

CHUNK = 20_000
EPOCH = datetime(2026, 1, 1)
_COLUMNS = {
    "orders": ("id", "store_id", "order_number", "order_key", "cart_order_number", "cart_key",
               "status", "bill_to_name", "ship_to_name", "zip_hash", "email_hash",
               "phone_hash", "email", "expected_ship_date", "actual_ship_date", "occurred_at",
               "sequence", "last_update_id", "created_at", "updated_at"),
    "order_items": ("id", "order_id", "position", "line_id", "sku", "name", "qty_ordered",
                    "qty_shipped", "qty_needed", "status", "expected_ship_date",
                    "actual_ship_date"),
    "tracking_numbers": ("id", "order_id", "position", "number", "carrier", "shipped_on"),
    "status_changes": ("id", "order_id", "line_id", "from_status", "to_status", "event",
                       "occurred_at"),
}


class Progress:
    """A one-line progress bar on stderr."""

    def __init__(self, label: str, total: int):
        self.label, self.total, self.start = label, total, time.perf_counter()

    def update(self, done: int) -> None:
        """Redraw the bar for *done* of total."""
        share = done / self.total if self.total else 1.0
        bar = "#" * int(share * 30)
        rate = done / max(time.perf_counter() - self.start, 1e-9)
        sys.stderr.write(f"\r  {self.label:<28} [{bar:<30}] {share:4.0%} "
                         f"{done:>9,}/{self.total:,}  {rate:9,.0f}/s")
        sys.stderr.flush()

    def close(self) -> None:
        """End the line."""
        sys.stderr.write("\n")


def order_number(serial: int) -> str:
    """The order number of the loaded order *serial*."""
    return f"L{serial:08d}"


def zip_of(serial: int) -> str:
    """The billing ZIP the loaded order *serial* was given (the lookup's verifier)."""
    return f"{10000 + serial % 89999:05d}"


def _stamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def _rows(store_id: int, serial: int, factor_key: str, ids: dict[str, int]) -> dict[str, list]:
    from oss_server.security.factors import hash_factors

    order_id = ids["orders"]
    ids["orders"] += 1
    number = order_number(serial)
    when = EPOCH + timedelta(minutes=serial % 100_000)
    hashes = hash_factors(factor_key, zip_of(serial), f"shopper{serial}@example.com",
                          f"+1 (212) 555-{serial % 10000:04d}")
    day = (when + timedelta(days=3)).strftime("%Y-%m-%d")
    order = (order_id, store_id, number, number.casefold(), f"W-{number}", f"w-{number}",
             ORDER_LABELS[-1], "Pat Doe", "Pat Doe", hashes["zip_hash"], hashes["email_hash"],
             hashes["phone_hash"], None, day, day, _stamp(when), 4, f"{number}.4",
             _stamp(when), _stamp(when))
    items, history = [], []
    for line in range(3):
        sku, name = PRODUCTS[(serial + line) % len(PRODUCTS)]
        items.append((ids["order_items"] + line, order_id, line, str(line + 1), sku, name, 2, 2, 0,
                      ITEM_LABELS[-1], day, day))
    ids["order_items"] += 3
    tracking = [(ids["tracking_numbers"], order_id, 0, ups_number(serial), "UPS", day)]
    ids["tracking_numbers"] += 1
    previous = None
    for step, label in enumerate(ORDER_LABELS):
        history.append((ids["status_changes"] + step, order_id, None, previous, label,
                        "Order Change Status", _stamp(when - timedelta(hours=5 - step))))
        previous = label
    ids["status_changes"] += len(ORDER_LABELS)
    return {"orders": [order], "order_items": items, "tracking_numbers": tracking,
            "status_changes": history}


def _write_sqlite(raw, table: str, rows: list[tuple]) -> None:
    columns = _COLUMNS[table]
    raw.cursor().executemany(f"INSERT INTO {table} ({', '.join(columns)}) "
                             f"VALUES ({', '.join('?' for _ in columns)})", rows)


def _write_postgresql(raw, table: str, rows: list[tuple]) -> None:
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY {table} ({', '.join(_COLUMNS[table])}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def load_orders(app, store_id: int, first: int, last: int, analyze: bool = True) -> float:
    """Insert orders first..last (inclusive serials) of the store; return rows/s.

    With *analyze* False a SQLite database is left without statistics, as a new install is.
    """
    from oss_server.extensions import db

    factor_key = app.config["OSS_FACTOR_KEY"]
    total = last - first + 1
    progress = Progress(f"orders {first:,}–{last:,}", total)
    rows_written, started = 0, time.perf_counter()
    with app.app_context():
        engine = db.engine
        write = _write_postgresql if engine.dialect.name == "postgresql" else _write_sqlite
        with engine.connect() as conn:
            # Continue after whatever is stored (orders the API created included).
            ids = {table: (conn.scalar(text(f"SELECT max(id) FROM {table}")) or 0) + 1
                   for table in _COLUMNS}
        raw = engine.raw_connection()
        try:
            for chunk_start in range(first, last + 1, CHUNK):
                batch: dict[str, list[tuple]] = {name: [] for name in _COLUMNS}
                for serial in range(chunk_start, min(chunk_start + CHUNK, last + 1)):
                    for table, rows in _rows(store_id, serial, factor_key, ids).items():
                        batch[table].extend(rows)
                for table, rows in batch.items():
                    write(raw, table, rows)
                    rows_written += len(rows)
                raw.commit()
                progress.update(min(chunk_start + CHUNK, last + 1) - first)
        finally:
            raw.close()
        progress.close()
        _after_load(engine, analyze)
    return rows_written / (time.perf_counter() - started)


def _after_load(engine, analyze: bool = True) -> None:
    """Move PostgreSQL's id sequences past the loaded ids and refresh planner statistics."""
    if engine.dialect.name != "postgresql":
        if not analyze:
            return
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
        return
    with engine.connect() as conn:
        for table in _COLUMNS:
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                              f"(SELECT max(id) FROM {table}))"))
        conn.commit()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def order_ids(app, store_id: int, serials: list[int]) -> dict[int, int]:
    """Return the stored order id of each loaded serial."""
    from oss_server.extensions import db
    from oss_server.models import Order

    keys = {order_number(s).casefold(): s for s in serials}
    with app.app_context():
        rows = db.session.execute(
            select(Order.id, Order.order_key).where(Order.store_id == store_id,
                                                    Order.order_key.in_(keys)))
        found = {keys[key]: order_id for order_id, key in rows}
        db.session.remove()
    return found
