"""The client's memory of each order: events start from the labels it last set, not a stale file."""

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from seom_client import Client, Config, ConfigError, EventError
from seom_client.queue import Queue

from .conftest import REPO, make_order, write_json
from .noposix import PRELUDE

# A script that keeps no state: every event is fired by a fresh Client, from one file that
# never changes. It prints a line once each fire has returned (the update, if any, durable).
STATELESS = """
import json, sys
from seom_client import Client
config, orders = sys.argv[1], int(sys.argv[2])
order = json.load(open(sys.argv[3]))
for n in range(orders):
    for event in ("Order Approve", "Item Cancel", "Order Approve", "Item Cancel"):
        with Client(config) as client:
            client.fire(event, dict(order, order_number="K-%d" % n), items=["1"])
        print(n, event, flush=True)
"""


def queued(client, number=None):
    """Return the queued updates (of one order) in queue order."""
    return [u for u in client.queue.updates()
            if number is None or u["order"]["order_number"] == number]


def test_the_same_event_twice_on_the_same_file_queues_one_update(make_client):
    client = make_client()
    order = make_order()  # the file: status Received, never updated by the caller
    first = client.fire("Order Approve", order)
    again = client.fire("Order Approve", order)
    assert first.queued and first.order_status == ("Received", "Approved")
    assert not again.queued and again.reason == "no label changed" and again.from_memory
    assert again.order["status"] == "Approved"
    assert len(queued(client)) == 1


def test_a_stale_file_never_moves_labels_back(make_client):
    client = make_client()
    order = make_order()  # Received, items "Item Added", for every call below
    client.fire("Order Approve", order)
    packed = client.fire("Order Pack", order)
    assert packed.order_status == ("Approved", "Packed")
    assert packed.items == {"1": ("Item Added", "Item Packed"), "2": ("Item Added", "Item Packed")}
    canceled = client.fire("Item Cancel", order, items=["1"])
    assert canceled.order_status is None
    assert canceled.items == {"1": ("Item Packed", "Item Canceled")}
    sent = [u["order"] for u in queued(client)]
    assert [o["status"] for o in sent] == ["Approved", "Packed", "Packed"]
    assert [line["status"] for line in sent[-1]["items"]] == ["Item Canceled", "Item Packed"]
    assert order["status"] == "Received"  # the caller's dict is left alone


def test_other_fields_come_from_the_file(make_client):
    client = make_client()
    client.fire("Order Approve", make_order())
    shipped = make_order(tracking=[{"number": "1Z999AA10123456784"}],
                         actual_ship_date="2026-12-03")
    shipped["items"].append({"line_id": "3", "sku": "SKU-3", "name": "Late addition",
                             "qty_ordered": 2, "qty_shipped": 2, "qty_needed": 0,
                             "status": "Item Added"})
    r = client.fire("Order Add Tracking Number", shipped)
    assert r.order_status == ("Approved", "Shipped") and r.queued
    sent = r.update["order"]
    assert sent["tracking"] == [{"number": "1Z999AA10123456784"}]
    assert sent["actual_ship_date"] == "2026-12-03"
    assert [line["line_id"] for line in sent["items"]] == ["1", "2", "3"]
    assert r.items["3"] == ("Item Added", "Item Shipped")


def test_a_caller_that_keeps_no_state_gets_the_same_behaviour(make_config):
    config = make_config()
    order = make_order()
    for event in ("Order Approve", "Order Approve", "Item Cancel", "Order Approve"):
        with Client(Config.load(config.path)) as client:
            client.fire(event, order, items=["2"] if event.startswith("Item") else None)
    with Client(Config.load(config.path)) as client:
        sent = [u["order"] for u in queued(client)]
        assert [(o["status"], o["items"][1]["status"]) for o in sent] == [
            ("Approved", "Item Added"), ("Approved", "Item Canceled")]


def test_the_cli_fired_twice_from_one_file_queues_one_update(make_config, cli, tmp_path):
    config = make_config()
    order_file = write_json(tmp_path / "order.json", make_order("C-77"))
    for event in ("Order Approve", "Order Approve", "Item Cancel", "Order Approve"):
        cli("fire", event, "--order", str(order_file), config=config.path, check=0)
    shown = cli("fire", "Order Approve", "--order", str(order_file), config=config.path, check=0)
    assert "no update queued" in shown.stdout
    with Client(Config.load(config.path)) as client:
        sent = [u["order"] for u in queued(client)]
        assert [o["status"] for o in sent] == ["Approved", "Approved"]
        assert {line["status"] for line in sent[1]["items"]} == {"Item Canceled"}
        held = client.remembered("C-77")
    assert held["status"] == "Approved"
    assert held["items"] == {"1": "Item Canceled", "2": "Item Canceled"}


def test_fire_reports_before_and_after(make_client):
    client = make_client()
    first = client.fire("Order Approve", make_order())
    assert not first.from_memory  # nothing known yet: "before" is the file's label
    r = client.fire("Item Force Backorder", make_order(), items=["2"])
    assert r.from_memory
    assert r.order_status == ("Approved", "Some Items Backordered")
    assert r.items == {"2": ("Item Added", "Item Backordered")}


def test_remembered_shows_labels_and_the_last_update(make_client):
    client = make_client()
    assert client.remembered("1001") is None
    r = client.fire("Order Pack", make_order())
    client.fire("Item Revise", make_order(), items=["1"])  # notify off: labels change, no update
    held = client.remembered("1001")
    assert held["order_number"] == "1001" and held["status"] == "Packed"
    assert held["items"] == {"1": "Item Revised", "2": "Item Packed"}
    last = held["last_update"]
    assert last["update_id"] == r.update["update_id"] and last["sequence"] == r.update["sequence"]
    assert last["event"] == "Order Pack" and last["status"] == "Packed"
    assert held["last_fired_at"] and held["forgotten_after"] > held["last_fired_at"]
    # Only labels and ids: no names or verification factors are kept in the memory.
    text = json.dumps(held)
    assert "Ada Shopper" not in text and "90210" not in text and "ada@example.com" not in text


def test_a_raw_enqueue_sets_the_remembered_labels(make_client):
    client = make_client()
    client.enqueue({"order": make_order(status="Shipped"), "event": "Order Add Tracking Number"})
    assert client.remembered("1001")["status"] == "Shipped"
    assert not client.fire("Order Change Status", make_order(status="Shipped")).queued
    r = client.fire("Order Approve", make_order())
    assert r.order_status == ("Shipped", "Approved")


def test_change_status_takes_the_files_label_only_at_its_own_level(make_client):
    client = make_client()
    client.fire("Order Pack", make_order())
    edited = make_order(status="Fraud Review")  # the user set it; the lines are stale
    r = client.fire("Order Change Status", edited)
    assert r.order_status == ("Packed", "Fraud Review") and r.items == {} and r.queued
    assert {line["status"] for line in r.update["order"]["items"]} == {"Item Packed"}
    line_edit = make_order()
    line_edit["items"][1]["status"] = "Item Returned"
    r = client.fire("Item Change Status", line_edit, items=["2"])
    assert r.items == {"2": ("Item Packed", "Item Returned")} and r.order_status is None
    assert r.update["order"]["status"] == "Fraud Review"


def test_change_status_on_an_order_never_seen_is_sent(make_client):
    client = make_client()
    r = client.fire("Order Change Status", make_order(status="Fraud Review"))
    assert r.order_status == (None, "Fraud Review") and r.queued


def test_an_unknown_label_is_refused(make_client):
    client = make_client()
    with pytest.raises(EventError, match="unknown label"):
        client.fire("Order Change Status", make_order(), label="Bogus Label")
    assert client.queue.counts()["pending"] == 0 and client.remembered("1001") is None


def test_parallel_clients_firing_the_same_event_queue_one_update(make_config):
    config = make_config()
    clients = [Client(Config.load(config.path)) for _ in range(8)]
    barrier = threading.Barrier(len(clients))
    results = []

    def fire(client):
        barrier.wait(10)
        results.append(client.fire("Order Approve", make_order()))

    threads = [threading.Thread(target=fire, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(r.queued for r in results) == 1 and len(results) == 8
    assert len(queued(clients[0])) == 1
    for client in clients:
        client.close()


def test_memory_survives_kill_9_and_a_rerun_queues_nothing_twice(make_config, tmp_path):
    config = make_config()
    order_file = write_json(tmp_path / "order.json", make_order())
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    script = (PRELUDE if os.environ.get("SEOM_NO_POSIX") == "1" else "") + STATELESS
    args = [sys.executable, "-c", script, str(config.path), "30", str(order_file)]
    confirmed = []
    for cycle in range(3):  # killed at a different moment each time
        proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(5 + 7 * cycle):
            confirmed.append(proc.stdout.readline())
        proc.kill()  # SIGKILL; TerminateProcess on Windows
        proc.wait(30)
        proc.stdout.close()
    assert all(confirmed)
    with Client(Config.load(config.path)) as client:
        assert client.queue.integrity_check() == "ok"
        for update in client.queue.updates():  # each queued update's labels are remembered
            held = client.remembered(update["order"]["order_number"])
            assert held is not None and held["last_update"]["sequence"] >= update["sequence"]
    # The same script run to the end on the same file: each order's two changes are queued
    # once each, however often the earlier runs were cut short.
    subprocess.run(args, env=env, stdout=subprocess.DEVNULL, timeout=300, check=True)
    with Client(Config.load(config.path)) as client:
        for n in range(30):
            sent = [u["order"] for u in queued(client, f"K-{n}")]
            assert [(o["status"], o["items"][0]["status"]) for o in sent] == [
                ("Approved", "Item Added"), ("Approved", "Item Canceled")], n
        assert client.queue.integrity_check() == "ok"


def _age(client, number, days):
    """Make an order's memory look untouched for so many days."""
    conn = sqlite3.connect(client.queue.path)
    with conn:
        conn.execute("UPDATE order_memory SET touched_at = ? WHERE order_number = ?",
                     (time.time() - days * 86400, number))
    conn.close()


def test_orders_untouched_for_memory_days_are_forgotten(make_client):
    client = make_client(memory_days=30)
    client.fire("Order Approve", make_order("old"))
    client.fire("Order Approve", make_order("recent"))
    _age(client, "old", 31)
    _age(client, "recent", 29)
    assert client.remembered("old") is None  # forgotten at once, before any write
    assert client.remembered("recent")["status"] == "Approved"
    r = client.fire("Order Approve", make_order("old"))  # back to the file's labels
    assert r.order_status == ("Received", "Approved") and r.queued
    client.fire("Order Approve", make_order("other"))
    _age(client, "other", 45)
    client.fire("Order Approve", make_order("recent"))  # any write deletes the expired rows
    conn = sqlite3.connect(client.queue.path)
    numbers = {row[0] for row in conn.execute("SELECT order_number FROM order_memory")}
    conn.close()
    assert numbers == {"old", "recent"}


def test_memory_days_is_a_validated_config_setting(make_config):
    config = make_config()
    assert config.memory_days == 180
    config.settings["memory_days"] = 30
    config.save()
    assert Config.load(config.path).memory_days == 30
    data = json.loads(config.path.read_text())
    for bad in (0, -5, "soon"):
        with pytest.raises(ConfigError, match="memory_days"):
            Config.from_dict({**data, "memory_days": bad})


def test_a_file_of_an_earlier_version_keeps_its_labels(tmp_path):
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE last_labels (order_number TEXT PRIMARY KEY, labels TEXT NOT NULL)")
    conn.execute("INSERT INTO last_labels VALUES (?, ?)",
                 ("1001", json.dumps({"order": "Approved", "items": {"1": "Item Packed"}})))
    conn.commit()
    conn.close()
    queue = Queue(path)
    held = queue.remembered("1001")
    assert (held.status, held.items) == ("Approved", {"1": "Item Packed"})
    queue.close()
    conn = sqlite3.connect(path)
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    conn.close()
    assert "last_labels" not in tables


def _touched(client, number):
    conn = sqlite3.connect(client.queue.path)
    (touched,) = conn.execute("SELECT touched_at FROM order_memory WHERE order_number = ?",
                              (number,)).fetchone()
    conn.close()
    return touched


def test_a_repeated_event_marks_the_order_touched_at_most_hourly(make_client):
    client = make_client(memory_days=30)
    client.fire("Order Approve", make_order())
    first = _touched(client, "1001")
    size = os.path.getsize(f"{client.queue.path}-wal")
    assert not client.fire("Order Approve", make_order()).queued
    assert _touched(client, "1001") == first  # a read only: nothing written, no fsync
    assert os.path.getsize(f"{client.queue.path}-wal") == size
    _age(client, "1001", 29)  # nearly forgotten, but still fired on: kept
    assert not client.fire("Order Approve", make_order()).queued
    assert _touched(client, "1001") > time.time() - 60
