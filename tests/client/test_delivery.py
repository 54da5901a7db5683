"""Delivery against the fault-injecting receiver: nothing lost, nothing applied twice."""

import threading
import time

import pytest

from seom_client import Config, ControllerLockedError

from .conftest import make_order
from .receiver import Receiver


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def enqueue_orders(client, count, orders=7):
    """Queue count updates spread over several orders; return their ids."""
    updates = [{"order": make_order(f"O-{i % orders}", status=f"Step {i}")} for i in range(count)]
    return [u["update_id"] for u in client.enqueue_many(updates)]


def assert_exactly_once(receiver, ids):
    assert set(receiver.applied) == set(ids), "an update was lost"
    assert set(receiver.applied.values()) == {1}, "an update was applied twice"
    for sequences in receiver.sequence_by_order.values():
        assert sequences == sorted(sequences), "an order's updates arrived out of order"
    assert receiver.results["stale"] == 0


def test_drains_in_batches_of_at_most_500(make_client, receiver):
    client = make_client(receiver.url)
    ids = enqueue_orders(client, 1201)
    assert client.flush(20)
    assert_exactly_once(receiver, ids)
    sizes = [n for _, status, n, _ in receiver.requests]
    assert sizes == [500, 500, 201]
    assert client.status()["last_success_at"] is not None


def test_smaller_configured_batches(make_client, receiver):
    client = make_client(receiver.url, batch_max_updates=50)
    ids = enqueue_orders(client, 120)
    assert client.flush(20)
    assert_exactly_once(receiver, ids)
    assert max(n for _, _, n, _ in receiver.requests) == 50


@pytest.mark.parametrize("fault", ["500", "503", "404", "reset_before", "reset_after", "slow",
                                   "malformed", "partial"])
def test_recovers_from_fault(make_client, receiver, fault):
    client = make_client(receiver.url, batch_max_updates=40, timeout_s=0.3)
    receiver.faults.extend([fault, fault, "ok", fault])
    ids = enqueue_orders(client, 150)
    client.start()
    assert client.flush(20)
    assert_exactly_once(receiver, ids)
    status = client.status()
    assert status["pending"] == 0 and status["dead"] == 0 and status["paused"] is None
    assert status["last_error"]


def test_honours_retry_after(make_client, receiver):
    client = make_client(receiver.url)
    receiver.retry_after = "0.4"
    receiver.faults.append("429")
    ids = enqueue_orders(client, 10)
    client.start()
    assert client.flush(10)
    assert_exactly_once(receiver, ids)
    (t429, s429, _, _), (t_next, s_next, _, _) = receiver.requests[:2]
    assert (s429, s_next) == (429, 200)
    assert t_next - t429 >= 0.38


def test_connection_refused_until_the_receiver_appears(make_client):
    down = Receiver().start()
    port = down.port
    down.stop()
    client = make_client(f"http://127.0.0.1:{port}")
    ids = enqueue_orders(client, 30)
    client.start()
    assert wait_for(lambda: (client.status()["last_error"] or "").find("network error") > 0)
    assert client.status()["pending"] == 30
    receiver = Receiver().start(port)
    try:
        assert client.flush(20)
        assert_exactly_once(receiver, ids)
    finally:
        client.stop()
        receiver.stop()


def test_rejected_updates_are_dead_lettered_and_block_nothing(make_client, receiver):
    receiver.reject = lambda u: ({"order.status": ["Unknown label."]}
                                 if u["order"]["status"] == "Poison" else None)
    client = make_client(receiver.url)
    good1 = client.enqueue({"order": make_order("A", status="One")})
    bad = client.enqueue({"order": make_order("A", status="Poison")})
    good2 = client.enqueue({"order": make_order("A", status="Two")})
    other = client.enqueue({"order": make_order("B", status="One")})
    assert client.flush(10)
    assert set(receiver.applied) == {good1["update_id"], good2["update_id"], other["update_id"]}
    dead = client.dead_letters()
    assert [(d["update_id"], d["order_number"]) for d in dead] == [(bad["update_id"], "A")]
    assert dead[0]["errors"] == {"order.status": ["Unknown label."]}
    assert client.status()["dead"] == 1 and "rejected" in client.status()["last_error"]


def test_413_splits_the_batch(make_client, receiver):
    receiver.max_batch = 7
    client = make_client(receiver.url)
    ids = enqueue_orders(client, 60)
    assert client.flush(10)
    assert_exactly_once(receiver, ids)
    assert client.status()["dead"] == 0


def test_an_update_too_large_on_its_own_is_dead_lettered(make_client, receiver):
    receiver.max_batch = 0
    client = make_client(receiver.url)
    ids = enqueue_orders(client, 3)
    assert client.flush(10)
    assert [d["update_id"] for d in client.dead_letters()] == ids
    assert "413" in client.dead_letters()[0]["errors"]["request"][0]


def test_a_400_for_one_update_dead_letters_it_and_the_rest_are_delivered(make_client, receiver):
    client = make_client(receiver.url, batch_max_updates=50)
    ids = enqueue_orders(client, 30)
    # the bad update's order has later updates too: they must not stall behind it
    later = [client.enqueue({"order": make_order("O-0", status=f"Later {n}")})["update_id"]
             for n in range(2)]
    bad = ids[7]
    receiver.refuse = lambda update: update["update_id"] == bad
    assert client.flush(10)
    dead = client.dead_letters()
    assert [d["update_id"] for d in dead] == [bad]
    assert dead[0]["errors"]["receiver_body"] == {
        "error": {"code": "bad_update", "message": f"cannot store {bad}"}}
    assert "HTTP 400" in dead[0]["errors"]["request"][0]
    good = [i for i in ids if i != bad] + later
    assert_exactly_once(receiver, good)
    assert bad not in receiver.applied
    status = client.status()
    assert status["pending"] == 0 and status["dead"] == 1 and status["paused"] is None


@pytest.mark.parametrize("fault", ["400", "422"])
def test_a_refused_batch_is_split_until_the_update_at_fault_is_found(make_client, receiver,
                                                                     fault):
    receiver.faults.extend([fault, fault])  # the whole batch, then its first half
    client = make_client(receiver.url, batch_max_updates=8)
    ids = enqueue_orders(client, 8)
    assert client.flush(10)
    sizes = [n for _, _, n, _ in receiver.requests]
    assert sizes[:3] == [8, 4, 2]  # halved until the answer changed
    assert client.status()["dead"] == 0
    assert_exactly_once(receiver, ids)


@pytest.mark.parametrize("fault, code", [("401", "invalid_api_key"),
                                         ("402", "subscription_expired"), ("403", "forbidden")])
def test_auth_failure_pauses_then_resumes_by_itself(make_client, receiver, fault, code):
    receiver.sticky = fault
    client = make_client(receiver.url)
    ids = enqueue_orders(client, 25)
    client.start()
    assert wait_for(lambda: client.status()["paused"] is not None)
    status = client.status()
    assert code in status["paused"] and status["pending"] == 25 and status["dead"] == 0
    assert wait_for(lambda: len(receiver.requests) >= 3)  # it keeps re-checking
    receiver.sticky = None  # key or subscription fixed on the server side
    assert client.flush(10)
    assert_exactly_once(receiver, ids)
    assert client.status()["paused"] is None and client.status()["dead"] == 0


def test_pause_ends_when_the_next_answer_is_a_retryable_error(make_client, receiver):
    receiver.sticky = "402"
    client = make_client(receiver.url)
    enqueue_orders(client, 3)
    assert _run_once(client).stopped == "paused"
    assert "subscription_expired" in client.status()["paused"]
    receiver.sticky = "503"  # subscription renewed, but the receiver is briefly down
    summary = _run_once(client)
    assert summary.stopped == "error" and summary.paused is None
    status = client.status()
    assert status["paused"] is None and "503" in status["last_error"]
    assert status["pending"] == 3 and status["dead"] == 0


def test_paused_queue_resumes_when_the_key_is_fixed_in_the_config(make_client, receiver):
    client = make_client(receiver.url, api_key="oss_old_key")
    receiver.api_key = "oss_new_key"
    ids = enqueue_orders(client, 5)
    path = client.config.path
    controller = client.controller(reload_config=lambda: Config.load(path))
    controller.acquire()
    stop = threading.Event()
    thread = threading.Thread(target=controller.serve, args=(stop,))
    thread.start()
    try:
        assert wait_for(lambda: "invalid_api_key" in (client.status()["paused"] or ""))
        fixed = Config.load(path)
        fixed.api_key = "oss_new_key"
        fixed.save()
        assert wait_for(lambda: client.status()["pending"] == 0)
        assert_exactly_once(receiver, ids)
        assert client.status()["paused"] is None
    finally:
        stop.set()
        controller.wake.set()
        thread.join(5)
        controller.release()


def test_controller_thread_resumes_when_the_key_is_fixed_in_the_config(make_client, receiver):
    client = make_client(receiver.url, api_key="oss_old_key")
    receiver.api_key = "oss_new_key"
    ids = enqueue_orders(client, 5)
    client.start()  # the thread re-reads the config file while paused, as `run` does
    assert wait_for(lambda: "invalid_api_key" in (client.status()["paused"] or ""))
    fixed = Config.load(client.config.path)
    fixed.api_key = "oss_new_key"
    fixed.save()
    assert wait_for(lambda: client.status()["pending"] == 0)
    assert_exactly_once(receiver, ids)
    assert client.status()["paused"] is None


def test_signed_requests(make_client, receiver):
    receiver.signing_secret = "whsec_test"
    client = make_client(receiver.url, signing_secret="whsec_test")
    ids = enqueue_orders(client, 5)
    assert client.flush(10)
    assert_exactly_once(receiver, ids)
    assert receiver.requests[0][3]["OSS-Signature"].startswith("t=")


def test_wrong_signing_secret_pauses(make_client, receiver):
    receiver.signing_secret = "whsec_test"
    client = make_client(receiver.url, signing_secret="whsec_other")
    enqueue_orders(client, 2)
    summary = _run_once(client)
    assert summary.stopped == "paused" and "bad_signature" in summary.paused
    assert client.status()["pending"] == 2


def _run_once(client):
    controller = client.controller()
    controller.acquire()
    try:
        return controller.run(once=True)
    finally:
        controller.release()


def test_run_once_stops_at_the_first_retryable_error(make_client, receiver):
    receiver.sticky = "503"
    client = make_client(receiver.url)
    enqueue_orders(client, 3)
    summary = _run_once(client)
    assert summary.stopped == "error" and "503" in summary.last_error
    assert client.status()["pending"] == 3


def test_one_controller_per_queue(make_client, receiver, make_config):
    client = make_client(receiver.url)
    client.start()
    assert client.status()["running"] is True
    info = client.controller_info()
    assert info["pid"] > 0 and time.time() - info["heartbeat_at"] < 5
    twin = make_client(receiver.url)  # same config file, same queue
    assert twin.queue.path == client.queue.path
    with pytest.raises(ControllerLockedError):
        twin.start()
    client.stop()
    assert client.status()["running"] is False and client.controller_info() is None


def test_heartbeat_stays_fresh_during_a_long_backoff(make_client, receiver):
    receiver.sticky = "503"
    client = make_client(receiver.url, backoff_base_s=30.0, backoff_cap_s=30.0, heartbeat_s=0.1)
    enqueue_orders(client, 1)
    client.start()
    assert wait_for(lambda: len(receiver.requests) >= 1)
    # Watch for 3 s: a heartbeat that stopped at the start of the backoff would be >= 3 s old
    # by the end. The 0.1 s beat is held to < 2 s, not to a few beats, so one slow write
    # (an fsync stall on a loaded machine) does not fail it; 2 s is still far below 30 s.
    ages = []
    for _ in range(30):
        time.sleep(0.1)
        ages.append(time.time() - client.controller_info()["heartbeat_at"])
    assert len(receiver.requests) == 1  # still waiting out the 30 s backoff
    assert max(ages) < 2.0, ages
    started = time.monotonic()
    client.stop()
    assert time.monotonic() - started < 2  # stop() still cuts the backoff short


def test_enqueue_while_running_is_picked_up(make_client, receiver):
    client = make_client(receiver.url)
    client.start()
    ids = []
    for n in range(20):
        ids.append(client.fire("Order Approve", make_order(f"N{n}")).update["update_id"])
    assert client.flush(10)
    assert_exactly_once(receiver, ids)
