"""`seom-client serve` and workstations made with `init --bridge`, as processes on loopback.

Every seom-client process here runs without the POSIX-only modules when the suite does
(SEOM_NO_POSIX=1), as on Windows.
"""

import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from seom_client import Config
from seom_client.errors import ConfigError
from seom_client.queue import Queue
from seom_client.remote import RemoteSite

from .conftest import REPO, make_order, write_json
from .noposix import PRELUDE
from .oss_live import fetch, free_port, live  # noqa: F401  (a fixture)

TOKEN = "site-bridge-token-for-tests"
MAIN = "import sys\nfrom seom_client.cli import main\nsys.exit(main(sys.argv[1:]))\n"


def seom(*args):
    """Return the argv of a seom-client process (without fcntl & co. when the suite is)."""
    prelude = PRELUDE if os.environ.get("SEOM_NO_POSIX") == "1" else ""
    return [sys.executable, "-c", prelude + MAIN, *map(str, args)]


def run_cli(*args, cwd=None):
    """Run one seom-client command; return the CompletedProcess."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(seom(*args), capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=60)


class Serve:
    """A `seom-client serve` process for one site config, on one loopback port."""

    def __init__(self, config_path, port=None):
        self.config_path = config_path
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None

    def start(self, timeout=20.0):
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.proc = subprocess.Popen(
            seom("--config", self.config_path, "serve", "--listen", f"127.0.0.1:{self.port}"),
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"serve exited {self.proc.returncode}: {self.proc.stderr.read()}")
            try:
                RemoteSite(self.url, TOKEN, timeout_s=2).status()
                return self
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.1)
        self.kill()
        pytest.fail("serve did not answer in time")

    def kill(self):
        """End the process at once (SIGKILL; TerminateProcess on Windows)."""
        self.proc.kill()
        self.proc.wait(10)
        self._close()

    def stop(self):
        """Stop it as a service manager does (SIGTERM; where absent, kill); return the code."""
        self.proc.terminate()
        try:
            code = self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(10)
        self._close()
        return code

    def _close(self):
        for stream in (self.proc.stdout, self.proc.stderr):
            stream.close()


@pytest.fixture
def site_config(make_config):
    """Return a factory of site configs (the machine that runs serve) with the bridge token."""
    def make(url, **kwargs):
        config = make_config(url, **kwargs)
        config.bridge_token = TOKEN
        config.save()
        return config
    return make


@pytest.fixture
def serving():
    """Start serve processes; every one still running is stopped after the test."""
    started = []

    def start(config_path, port=None):
        serve = Serve(config_path, port).start()
        started.append(serve)
        return serve
    yield start
    for serve in started:
        if serve.proc.poll() is None:
            serve.stop()


def wait_for(predicate, timeout=30.0):
    """Poll predicate until true; return whether it became true in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


@pytest.mark.slow
def test_three_workstations_on_the_same_orders_send_each_change_once(live, site_config, serving):
    url, key = live
    serve = serving(site_config(url, api_key=key).path)
    orders = [make_order(f"WS-{n}", status="New") for n in range(1, 5)]
    for order in orders:
        order["tracking"] = [{"number": "1Z999AA10123456784"}]
    events = ["Order Import", "Order Approve", "Order Pack", "Order Add Tracking Number"]
    together = threading.Barrier(3)

    def workstation(_):
        remote, answers = RemoteSite(serve.url, TOKEN), []
        for event in events:
            together.wait(30)  # all three fire this event on every order at once
            answers += [(event, o["order_number"], remote.fire(event, o)) for o in orders]
        return answers

    with ThreadPoolExecutor(3) as pool:
        answers = [a for batch in pool.map(workstation, range(3)) for a in batch]
    for event in events:
        for order in orders:
            queued = [a for e, n, a in answers if (e, n) == (event, order["order_number"])
                      and a["queued"]]
            assert len(queued) == 1, (event, order["order_number"], queued)
    remote = RemoteSite(serve.url, TOKEN)
    assert wait_for(lambda: remote.status()["pending"] == 0)
    assert remote.status()["dead"] == 0
    for order in orders:
        stored = fetch(live, order["order_number"]).json()
        assert stored["status"] == "Shipped"
        assert [i["status"] for i in stored["items"]] == ["Item Shipped", "Item Shipped"]
        sequences = [h["sequence"] for h in stored["history"] if "sequence" in h]
        assert sequences == sorted(sequences)


def test_acknowledged_fires_survive_a_killed_bridge_and_arrive_once(site_config, serving,
                                                                     receiver):
    config = site_config(receiver.url)
    serve = serving(config.path)
    acked, lock, killed = {}, threading.Lock(), threading.Event()

    def caller(n):
        with requests.Session() as http:
            for i in range(200):
                number = f"K{n}-{i}"
                try:
                    answer = http.post(serve.url + "/v1/fire", timeout=10,
                                       headers={"Authorization": f"Bearer {TOKEN}"},
                                       json={"event": "Order Approve", "order": make_order(number)})
                except requests.RequestException:
                    return  # the bridge is gone: this fire was never acknowledged
                if answer.status_code == 200:
                    with lock:
                        acked[number] = answer.json()["update_id"]
                if killed.is_set():
                    return

    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(caller, n) for n in range(4)]
        assert wait_for(lambda: len(acked) >= 40, timeout=60)
        serve.kill()  # mid-burst: some fires are being written, some answered, some sent
        killed.set()
        for future in futures:
            future.result()
    before = len(acked)
    restarted = serving(config.path, port=serve.port)  # takes the queue over at once
    remote = RemoteSite(restarted.url, TOKEN)
    assert wait_for(lambda: remote.status()["pending"] == 0)
    assert len(acked) == before
    for number, update_id in acked.items():
        assert receiver.applied[update_id] == 1, number
    # Each order had one fire: two updates applied for one order would be a change sent twice.
    assert all(len(seqs) == 1 for seqs in receiver.sequence_by_order.values())
    assert restarted.stop() in (0, -15)


def test_a_workstation_fires_through_the_bridge_and_keeps_no_queue(site_config, serving,
                                                                   receiver, tmp_path):
    serve = serving(site_config(receiver.url).path)
    desk = tmp_path / "desk"
    desk.mkdir()
    ws = desk / "seom-client.json"
    made = run_cli("--config", ws, "init", "--bridge", serve.url, "--token", TOKEN)
    assert made.returncode == 0, made.stderr
    order = write_json(desk / "order.json", make_order("D-1"))
    fired = run_cli("--config", ws, "fire", "Order Approve", "--order", order)
    assert fired.returncode == 0, fired.stderr
    assert "order D-1: Received -> Approved" in fired.stdout
    assert "queued update" in fired.stdout
    again = run_cli("--config", ws, "fire", "Order Approve", "--order", order)
    assert "no update queued" in again.stdout  # the site's memory, not this desk's
    status = run_cli("--config", ws, "status", "--json")
    assert status.returncode == 0 and set(json.loads(status.stdout)) >= {"pending", "running"}
    shown = run_cli("--config", ws, "orders", "show", "D-1")
    assert "order D-1: Approved" in shown.stdout
    assert wait_for(lambda: len(receiver.applied) == 1)
    for command in (["run", "--once"], ["serve"], ["dead", "list"]):
        refused = run_cli("--config", ws, *command)
        assert refused.returncode == 2
        assert "workstation" in refused.stderr and len(refused.stderr.splitlines()) == 1
    assert sorted(p.name for p in desk.iterdir()) == ["order.json", "seom-client.json"]
    assert TOKEN not in run_cli("--config", ws, "config", "show").stdout


def test_a_workstation_fails_loudly_when_the_bridge_is_down(tmp_path):
    ws = tmp_path / "seom-client.json"
    port = free_port()  # nothing listens there
    assert run_cli("--config", ws, "init", "--bridge", f"http://127.0.0.1:{port}",
                   "--token", TOKEN).returncode == 0
    order = write_json(tmp_path / "order.json", make_order("D-2"))
    fired = run_cli("--config", ws, "fire", "Order Approve", "--order", order)
    assert fired.returncode != 0
    assert fired.stdout == ""
    assert len(fired.stderr.strip().splitlines()) == 1
    assert "cannot be reached" in fired.stderr and "Traceback" not in fired.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["order.json", "seom-client.json"]


def test_serve_refuses_other_machines_without_a_token(make_config):
    config = make_config()
    refused = run_cli("--config", config.path, "serve", "--listen", f"0.0.0.0:{free_port()}")
    assert refused.returncode == 2
    assert "bridge token" in refused.stderr
    assert not config.resolved_queue_path().exists()


def test_serve_waits_out_a_dead_controllers_lease_from_another_machine(site_config, serving):
    config = site_config("http://127.0.0.1:9")
    queue = Queue(config.resolved_queue_path())
    # As a controller on another machine leaves it when it dies: no pid to probe here.
    queue.set_meta(controller=json.dumps({
        "owner": "f" * 32, "pid": 4242, "host": "till-2.example", "started_at": "",
        "heartbeat_at": time.time(), "expires_at": time.time() + 2.0}))
    queue.close()
    started = time.monotonic()
    serve = serving(config.path)
    assert 1.5 <= time.monotonic() - started < 15
    assert RemoteSite(serve.url, TOKEN).status()["running"] is True
    assert serve.stop() in (0, -15)
    info = json.loads(Queue(config.resolved_queue_path()).get_meta("controller") or "null")
    assert info is None  # released on a clean stop: the next run starts at once


def test_run_waits_out_a_dead_controllers_lease_from_another_machine(site_config, receiver):
    config = site_config(receiver.url)
    queue = Queue(config.resolved_queue_path())
    queue.enqueue({"order": make_order("5101")})
    queue.set_meta(controller=json.dumps({
        "owner": "e" * 32, "pid": 4243, "host": "till-3.example", "started_at": "",
        "heartbeat_at": time.time(), "expires_at": time.time() + 2.0}))
    queue.close()
    started = time.monotonic()
    proc = run_cli("--config", config.path, "run", "--once")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 1.5 <= time.monotonic() - started < 15
    assert "waiting up to" in proc.stderr
    assert len(receiver.applied) == 1


def test_workstation_config_holds_no_site_settings(tmp_path):
    ws = Config.new_workstation("http://10.0.0.5:8765", TOKEN, path=tmp_path / "ws.json")
    ws.save()
    assert json.loads((tmp_path / "ws.json").read_text()) == {
        "bridge_url": "http://10.0.0.5:8765", "bridge_token": TOKEN, "timeout_s": 30.0}
    assert Config.load(tmp_path / "ws.json").workstation
    changed = Config.load(tmp_path / "ws.json").with_value("bridge_token", "new-token")
    assert changed.bridge_token == "new-token" and changed.workstation
    with pytest.raises(ConfigError, match="keeps no queue"):
        ws.resolved_queue_path()


def test_run_takes_the_queue_over_from_a_killed_serve(site_config, serving, receiver):
    config = site_config(receiver.url)
    serve = serving(config.path)
    receiver.sticky = "503"  # the update stays queued while serve runs
    assert RemoteSite(serve.url, TOKEN).fire("Order Approve", make_order("T-1"))["queued"]
    serve.kill()
    receiver.sticky = None
    drained = run_cli("--config", config.path, "run", "--once")
    assert drained.returncode == 0, drained.stderr  # no "another controller" wait or refusal
    assert len(receiver.applied) == 1


def test_serve_says_where_it_listens_at_once(site_config, serving, receiver):
    serve = serving(site_config(receiver.url).path)
    lines = []
    reader = threading.Thread(target=lambda: lines.append(serve.proc.stdout.readline()),
                              daemon=True)
    reader.start()
    reader.join(10)  # a service's log shows the line while serve runs, not at its exit
    assert lines and f"on http://127.0.0.1:{serve.port}" in lines[0]
