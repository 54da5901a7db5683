"""The seom-client command line, exactly as SPEC §7 names it."""

import json
import os
import stat
import subprocess
import sys

import pytest

from seom_client.cli import main
from seom_client.events import STANDARD_EVENTS

from .conftest import REPO, make_order, write_json

STATUS_KEYS = {"running", "pending", "oldest_pending_age_s", "dead", "paused",
               "last_success_at", "last_error"}


@pytest.fixture
def run(tmp_path, capsys):
    """Call main() in-process; return (exit code, stdout, stderr)."""
    config = tmp_path / "seom-client.json"

    def call(*args):
        code = main(["--config", str(config), *args])
        out, err = capsys.readouterr()
        return code, out, err
    call.config = config
    return call


@pytest.fixture
def inited(run, receiver):
    """A config pointing at the fault-injecting receiver, with fast timings."""
    assert run("init", "--url", receiver.url, "--api-key", receiver.api_key)[0] == 0
    data = json.loads(run.config.read_text())
    data.update(backoff_base_s=0.01, backoff_cap_s=0.05, pause_recheck_s=0.05, idle_poll_s=0.02)
    run.config.write_text(json.dumps(data))
    return run


def test_init_writes_defaults_owner_only(run, tmp_path):
    code, out, _ = run("init", "--url", "http://127.0.0.1:5000", "--api-key", "oss_a_b")
    assert code == 0 and "http://127.0.0.1:5000/api/v1/updates" in out
    data = json.loads(run.config.read_text())
    assert data["api_key"] == "oss_a_b" and data["generic_cart"] is False
    assert set(data["events"]) == set(STANDARD_EVENTS) and "Shipped" in data["labels"]
    if os.name == "posix":  # Windows has no such modes; the user's profile folder guards it
        assert stat.S_IMODE(os.stat(run.config).st_mode) == 0o600
    assert str(tmp_path / "seom-client.stack.sqlite") in out  # the queue lives beside it


def test_init_refuses_to_overwrite(run):
    run("init", "--url", "http://x.example", "--api-key", "k")
    code, _, err = run("init", "--url", "http://y.example", "--api-key", "k")
    assert code == 2 and "already exists" in err
    assert run("init", "--url", "http://y.example", "--api-key", "k", "--force")[0] == 0


def test_init_generic_cart_with_signing(run):
    code, out, _ = run("init", "--url", "https://shop.example/hooks/oss", "--api-key", "k",
                       "--signing-secret", "whsec_1", "--generic-cart")
    assert code == 0 and "https://shop.example/hooks/oss\n" in out
    data = json.loads(run.config.read_text())
    assert data["generic_cart"] is True and data["signing_secret"] == "whsec_1"


@pytest.mark.parametrize("args, message", [
    (("init", "--url", "ftp://x", "--api-key", "k"), "http"),
    (("status",), "seom-client init"),
    (("events", "list"), "seom-client init"),
])
def test_bad_input_exits_2(run, args, message):
    code, _, err = run(*args)
    assert code == 2 and message in err


def test_config_from_environment(tmp_path, capsys, monkeypatch):
    path = tmp_path / "elsewhere.json"
    monkeypatch.setenv("SEOM_CLIENT_CONFIG", str(path))
    assert main(["init", "--url", "http://127.0.0.1:5000", "--api-key", "k"]) == 0
    assert path.exists()


def test_events_list_set_check_and_defaults(inited):
    code, out, _ = inited("events", "list")
    assert code == 0 and all(name in out for name in STANDARD_EVENTS)
    code, _, err = inited("events", "set", "Order Pack", "--order-status", "Boxed")
    assert code == 2 and "not in the label list" in err
    assert inited("labels", "add", "Boxed")[0] == 0
    code, out, _ = inited("events", "set", "Order Pack", "--order-status", "Boxed", "--no-notify")
    assert code == 0 and "notify no" in out
    assert inited("events", "check") == (0, "ok: no problems found\n", "")
    inited("events", "set", "Order Pack", "--order-status", "Approved", "--notify")
    code, out, _ = inited("events", "check")
    assert code == 1 and "Order Approve and Order Pack" in out
    assert inited("events", "set", "Order Teleport")[0] == 2
    assert inited("events", "load-defaults")[0] == 0
    assert inited("events", "check")[0] == 0


def test_labels_list_add_remove(inited):
    assert inited("labels", "add", "Gift Wrapped")[0] == 0
    assert "Gift Wrapped\n" in inited("labels", "list")[1]
    code, _, err = inited("labels", "remove", "Shipped")
    assert code == 2 and "Order Add Tracking Number" in err
    assert inited("labels", "remove", "Gift Wrapped")[0] == 0
    assert "Gift Wrapped" not in inited("labels", "list")[1]
    assert inited("labels", "remove", "Nope")[0] == 2


def test_fire_says_whether_an_update_was_queued(inited, tmp_path):
    order_file = write_json(tmp_path / "order.json", make_order("77"))
    code, out, _ = inited("fire", "Order Approve", "--order", str(order_file))
    assert code == 0 and "order 77: Received -> Approved" in out and "queued update" in out
    approved = make_order("77", status="Approved")
    write_json(order_file, approved)
    code, out, _ = inited("fire", "Order Approve", "--order", str(order_file))
    assert code == 0 and "no update queued: no label changed" in out
    code, out, _ = inited("fire", "Item Cancel", "--order", str(order_file), "--items", "2")
    assert "line 2: Item Added -> Item Canceled" in out and "line 1" not in out
    code, out, _ = inited("fire", "Order Change Status", "--order", str(order_file),
                          "--label", "Fraud Review")
    assert "Approved -> Fraud Review" in out
    assert inited("fire", "Order Teleport", "--order", str(order_file))[0] == 2
    assert inited("fire", "Order Approve", "--order", str(tmp_path / "missing.json"))[0] == 2
    (tmp_path / "bad.json").write_text("{nope")
    code, _, err = inited("fire", "Order Approve", "--order", str(tmp_path / "bad.json"))
    assert code == 2 and "not valid JSON" in err


def test_enqueue_run_status_and_dead_letters(inited, receiver, tmp_path):
    receiver.reject = lambda u: ({"order.status": ["Unknown label."]}
                                 if u["order"]["status"] == "Poison" else None)
    ok = write_json(tmp_path / "ok.json", {"order": make_order("1"), "event": "Order Import"})
    full = write_json(tmp_path / "full.json", {"update_id": "given-1", "sequence": 9,
                                               "occurred_at": "2026-01-01T09:00:00+01:00",
                                               "order": make_order("2")})
    bad = write_json(tmp_path / "bad.json", {"order": make_order("3", status="Poison")})
    for path in (ok, full, bad):
        assert inited("enqueue", str(path))[0] == 0
    code, out, _ = inited("status", "--json")
    status = json.loads(out)
    assert code == 0 and set(status) == STATUS_KEYS
    assert status["pending"] == 3 and status["running"] is False and status["paused"] is None
    assert status["oldest_pending_age_s"] >= 0

    code, out, _ = inited("run", "--once")
    assert code == 0 and "sent 2, dead-lettered 1, pending 0" in out
    assert "given-1" in receiver.applied

    code, out, _ = inited("dead", "list")
    assert "order 3" in out and "order.status: Unknown label." in out
    code, out, _ = inited("status")
    assert "dead letters:  1" in out and "controller:    not running" in out
    assert "last success:" in out and "never" not in out
    # SPEC §7 writes `dead retry` / `dead drop` bare: no ids means all dead letters.
    assert inited("dead", "retry") == (0, "requeued 1 dead letter(s)\n", "")
    assert inited("run", "--once")[0] == 0  # rejected again
    assert inited("dead", "retry", "--all")[1] == "requeued 1 dead letter(s)\n"
    assert inited("run", "--once")[0] == 0
    record_id = json.loads(inited("dead", "list", "--json")[1])[0]["id"]
    assert inited("dead", "retry", str(record_id + 1000))[:2] == (1, "requeued 0 dead letter(s)\n")
    assert inited("dead", "retry", "--all", str(record_id))[0] == 2  # ids or --all, not both
    assert inited("dead", "retry", str(record_id))[1] == "requeued 1 dead letter(s)\n"
    assert inited("run", "--once")[0] == 0
    assert inited("dead", "drop") == (0, "dropped 1 dead letter(s)\n", "")
    assert json.loads(inited("status", "--json")[1])["dead"] == 0
    assert inited("dead", "drop") == (0, "dropped 0 dead letter(s)\n", "")
    assert inited("dead", "drop", "--all")[1] == "dropped 0 dead letter(s)\n"


def test_run_once_exits_3_when_paused(inited, receiver, tmp_path):
    receiver.sticky = "402"
    inited("enqueue", str(write_json(tmp_path / "u.json", {"order": make_order()})))
    code, _, err = inited("run", "--once")
    assert code == 3 and "subscription_expired" in err
    status = json.loads(inited("status", "--json")[1])
    assert "subscription_expired" in status["paused"] and status["pending"] == 1
    assert status["dead"] == 0


def test_console_script_and_module_entry_point(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    config = tmp_path / "c.json"
    script = os.path.join(os.path.dirname(sys.executable), "seom-client")
    cmd = [script] if os.path.exists(script) else [sys.executable, "-m", "seom_client"]
    init = subprocess.run([*cmd, "--config", str(config), "init", "--url",
                           "http://127.0.0.1:5000", "--api-key", "k"],
                          env=env, capture_output=True, text=True, timeout=30)
    assert init.returncode == 0, init.stderr
    status = subprocess.run([sys.executable, "-m", "seom_client", "--config", str(config),
                             "status", "--json"], env=env, capture_output=True, text=True,
                            timeout=30)
    assert status.returncode == 0 and set(json.loads(status.stdout)) == STATUS_KEYS
