"""The stack: durability settings, filled fields, sequence, states, concurrency, fork."""

import os
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime

import pytest

from seom_client import UpdateError
from seom_client.queue import MAX_BODY, Queue

from .conftest import REPO, make_order


@pytest.fixture
def queue(tmp_path):
    q = Queue(tmp_path / "stack.sqlite")
    yield q
    q.close()


def update(number="1001", **extra):
    return {"order": make_order(number), **extra}


def test_enqueue_fills_id_sequence_and_time_with_offset(queue):
    filled = queue.enqueue(update())
    assert len(filled["update_id"]) == 32
    assert filled["sequence"] == 0
    stamp = datetime.fromisoformat(filled["occurred_at"])
    assert stamp.tzinfo is not None and filled["occurred_at"][-6] in "+-"
    assert queue.updates() == [filled]  # the id is stored with the record


def test_filled_ids_are_hex_and_sort_in_the_order_they_were_made(queue):
    first = queue.enqueue(update())["update_id"]
    time.sleep(0.002)  # the ids lead with the time in milliseconds
    second = queue.enqueue(update())["update_id"]
    assert all(len(u) == 32 and int(u, 16) >= 0 for u in (first, second))
    assert first < second


def test_given_fields_are_kept_and_the_counter_moves_past_them(queue):
    given = queue.enqueue(update(update_id="mine-1", sequence=41,
                                 occurred_at="2026-01-01T00:00:00-05:00"))
    assert (given["update_id"], given["sequence"]) == ("mine-1", 41)
    assert queue.enqueue(update())["sequence"] == 42


def test_sequence_persists_across_reopen(tmp_path):
    first = Queue(tmp_path / "q.sqlite")
    assert [first.enqueue(update())["sequence"] for _ in range(3)] == [0, 1, 2]
    first.close()
    again = Queue(tmp_path / "q.sqlite")
    assert again.enqueue(update())["sequence"] == 3
    again.close()


def test_file_is_wal_with_full_sync(queue):
    queue.enqueue(update())
    conn = queue._connection()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_enqueue_is_visible_to_another_connection_at_once(queue):
    queue.enqueue(update())
    other = sqlite3.connect(queue.path)
    assert other.execute("SELECT COUNT(*) FROM updates").fetchone()[0] == 1
    other.close()


@pytest.mark.parametrize("bad, message", [
    ({"order": {}}, "order_number"),
    ({"update_id": "has space", "order": {"order_number": "1"}}, "update_id"),
    ({"sequence": -1, "order": {"order_number": "1"}}, "sequence"),
    ({"occurred_at": "2026-01-01T00:00:00", "order": {"order_number": "1"}}, "offset"),
    ({"order": {"order_number": "1"}, "colour": "red"}, "unknown update fields"),
    ("nope", "JSON object"),
])
def test_bad_updates_are_refused_at_enqueue(queue, bad, message):
    with pytest.raises(UpdateError, match=message):
        queue.enqueue(bad)
    assert queue.counts()["pending"] == 0


def test_duplicate_update_id_is_refused(queue):
    queue.enqueue(update(update_id="same"))
    with pytest.raises(UpdateError):
        queue.enqueue(update(update_id="same"))


def test_oversized_update_is_refused(queue):
    huge = update()
    huge["order"]["ship_to"]["name"] = "x" * MAX_BODY
    with pytest.raises(UpdateError, match="bytes"):
        queue.enqueue(huge)


def test_claim_writes_nothing_and_settle_records_the_outcome(queue):
    for n in range(4):
        queue.enqueue(update(str(n)))
    batch = queue.claim(3)
    assert [r.order_number for r in batch] == ["0", "1", "2"]
    # Claimed rows stay pending: a controller that dies before settling leaves them
    # ready to send again, and the next claim returns the same rows.
    assert queue.counts() | {"oldest_created_at": None} == {
        "pending": 4, "inflight": 0, "dead": 0, "oldest_created_at": None}
    assert [r.id for r in queue.claim(3)] == [r.id for r in batch]
    queue.settle(delivered=[batch[0].id], dead={batch[1].id: {"x": ["bad"]}},
                 release=[batch[2].id])
    assert queue.counts()["dead"] == 1 and queue.counts()["pending"] == 2
    again = queue.claim(5)
    assert [(r.order_number, r.attempts) for r in again] == [("2", 1), ("3", 0)]


def test_recover_returns_rows_an_earlier_version_left_in_flight(queue, tmp_path):
    for n in range(2):
        queue.enqueue(update(str(n)))
    conn = sqlite3.connect(tmp_path / "stack.sqlite")
    conn.execute("UPDATE updates SET state = 'inflight' WHERE order_number = '0'")
    conn.commit()
    conn.close()
    assert queue.claim(5)[0].order_number == "1"
    assert queue.recover() == 1
    assert [r.order_number for r in queue.claim(5)] == ["0", "1"]


def test_claim_respects_byte_limit(queue):
    for n in range(10):
        queue.enqueue(update(str(n)))
    size = queue.claim(1)[0].size
    queue.recover()
    batch = queue.claim(500, max_bytes=14 + 3 * (size + 1))
    assert len(batch) == 3


def test_an_order_waiting_for_retry_blocks_only_itself(queue):
    a1, b1, a2 = (queue.enqueue(update(n)) for n in ("A", "B", "A"))
    first = queue.claim(1)
    queue.settle(retry={first[0].id: time.time() + 60})
    assert [r.update_id for r in queue.claim(10)] == [b1["update_id"]]
    assert a1 and a2


def test_dead_letters_retry_and_drop(queue):
    for n in range(3):
        queue.enqueue(update(str(n)))
    batch = queue.claim(3)
    queue.settle(dead={r.id: {"order.status": ["bad"]} for r in batch})
    dead = queue.dead()
    assert [d["order_number"] for d in dead] == ["0", "1", "2"]
    assert dead[0]["errors"] == {"order.status": ["bad"]}
    assert queue.retry_dead([dead[0]["id"]]) == 1
    assert queue.drop_dead() == 2
    assert queue.counts()["pending"] == 1 and queue.counts()["dead"] == 0
    assert queue.updates()[0]["update_id"] == dead[0]["update_id"]  # same id after retry


def test_threads_enqueue_at_once(queue):
    def work():
        for _ in range(25):
            queue.enqueue(update())
    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seqs = sorted(u["sequence"] for u in queue.updates())
    assert seqs == list(range(200))


def test_first_use_in_a_thread_shares_the_lock_made_in_init(tmp_path):
    queue = Queue(tmp_path / "stack.sqlite")
    lock = queue._lock
    done = threading.Event()

    def work():
        queue.enqueue(update())
        done.set()
    thread = threading.Thread(target=work)
    with lock:  # another thread using the fresh queue must wait for this one
        thread.start()
        assert not done.wait(0.3), "the thread ran under a lock of its own"
    assert done.wait(10)
    thread.join()
    assert queue._lock is lock and queue.counts()["pending"] == 1
    queue.close()


ENQUEUER = """
import sys
from seom_client.queue import Queue
q = Queue(sys.argv[1])
for i in range(int(sys.argv[2])):
    q.enqueue({"order": {"order_number": sys.argv[3] + "-" + str(i)}})
"""


def test_processes_enqueue_at_once(queue):
    queue.enqueue(update())  # the file exists already, as in real use
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [subprocess.Popen([sys.executable, "-c", ENQUEUER, str(queue.path), "60", f"p{i}"],
                              env=env) for i in range(4)]
    assert [p.wait(60) for p in procs] == [0, 0, 0, 0]
    updates = queue.updates()
    assert len(updates) == 241
    assert sorted(u["sequence"] for u in updates) == list(range(241))
    assert len({u["update_id"] for u in updates}) == 241
    assert queue.integrity_check() == "ok"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork() on Windows")
def test_fresh_connection_after_fork(queue):
    queue.enqueue(update())
    parent_conn = queue._connection()
    pid = os.fork()
    if pid == 0:  # child: must not reuse the parent's connection
        try:
            queue.enqueue(update("child"))
            ok = queue._connection() is not parent_conn
            os._exit(0 if ok else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
    assert queue._connection() is parent_conn
    assert [u["order"]["order_number"] for u in queue.updates()] == ["1001", "child"]


def test_filled_timestamps_never_go_backwards(queue, monkeypatch):
    first = queue.enqueue(update())
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() - 3600)  # the clock steps back an hour
    second = queue.enqueue(update())
    monkeypatch.setattr(time, "time", real)
    assert datetime.fromisoformat(second["occurred_at"]) >= datetime.fromisoformat(
        first["occurred_at"])
    assert second["sequence"] > first["sequence"]


def test_opening_a_file_of_an_earlier_version_swaps_the_order_index(tmp_path):
    path = tmp_path / "old.sqlite"
    queue = Queue(path)
    queue.counts()  # the file and its schema are made on first use
    queue.close()
    conn = sqlite3.connect(path)
    conn.execute("DROP INDEX updates_waiting")
    conn.execute("CREATE INDEX updates_order ON updates (order_number, id)")
    conn.commit()
    conn.close()
    queue = Queue(path)
    queue.enqueue(update())
    with queue._read() as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    queue.close()
    assert "updates_waiting" in names and "updates_order" not in names
