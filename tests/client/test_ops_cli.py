"""Operating the client: config show/set, check, resume, and the polish of fire and output.

`check` and `resume` run against a real oss_server on loopback (started as
test_live_server.py does) and, for what a live OSS cannot show (TLS, a closed port, a
generic cart), against loopback stand-ins.
"""

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from seom_client import Config
from seom_client.cli import main

from .conftest import FAST, REPO, make_order, write_json
from .oss_live import free_port, running_oss


def _env(**extra):
    return {**os.environ, "PYTHONPATH": str(REPO), **extra}


def _wait(predicate, timeout):
    """Poll predicate until it holds or the deadline passes; return whether it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def run(tmp_path, capsys):
    """Call main() in-process; return (exit code, stdout, stderr)."""
    config = tmp_path / "seom-client.json"

    def call(*args, config_path=None):
        code = main(["--config", str(config_path or config), *args])
        out, err = capsys.readouterr()
        return code, out, err
    call.config = config
    return call


# -- config show / set ---------------------------------------------------------------------

def test_config_set_keeps_custom_labels_and_events(run):
    assert run("init", "--url", "http://127.0.0.1:9", "--api-key", "oss_abc_topsecret")[0] == 0
    assert run("labels", "add", "Gift Wrapped")[0] == 0
    assert run("events", "set", "Order Pack", "--order-status", "Gift Wrapped",
               "--no-notify")[0] == 0
    before = json.loads(run.config.read_text())
    for key, value in [("url", "https://status.example.com"), ("api_key", "oss_new_secret2"),
                       ("signing_secret", "whsec_1"), ("use_status_updates", "off"),
                       ("memory_days", "30"), ("bridge_token", "tok_abcdef"),
                       ("generic_cart", "yes")]:
        code, out, err = run("config", "set", key, value)
        assert code == 0, err
    after = json.loads(run.config.read_text())
    assert after["labels"] == before["labels"] and "Gift Wrapped" in after["labels"]
    assert after["events"] == before["events"]
    assert after["events"]["Order Pack"] == {"order_status": "Gift Wrapped",
                                             "item_status": before["events"]["Order Pack"]
                                             ["item_status"], "notify": False}
    assert after["url"] == "https://status.example.com" and after["api_key"] == "oss_new_secret2"
    assert after["use_status_updates"] is False and after["memory_days"] == 30
    assert after["generic_cart"] is True and after["bridge_token"] == "tok_abcdef"
    assert run("config", "set", "signing_secret", "")[0] == 0  # '' clears an optional one
    assert json.loads(run.config.read_text())["signing_secret"] is None


def test_config_show_masks_secrets(run):
    run("init", "--url", "http://127.0.0.1:9", "--api-key", "oss_abc_topsecret",
        "--signing-secret", "whsec_verysecret")
    run("config", "set", "bridge_token", "bridgetoken123")
    code, out, _ = run("config", "show")
    assert code == 0
    assert "topsecret" not in out and "verysecret" not in out and "bridgetoken123" not in out
    assert "oss_abc_" in out  # the key id says which key it is
    assert "http://127.0.0.1:9/api/v1/updates" in out
    shown = json.loads(run("config", "show", "--json")[1])
    assert shown["api_key"].startswith("oss_abc_") and "topsecret" not in shown["api_key"]
    assert shown["memory_days"] == 180


@pytest.mark.parametrize("key, value, message", [
    ("url", "ftp://x", "http"), ("memory_days", "0", "at least 1"),
    ("memory_days", "soon", "number"), ("use_status_updates", "maybe", "on or off"),
    ("api_key", "", "api_key"), ("colour", "red", "unknown setting"),
    ("labels", "x", "labels"), ("timeout_s", "-1", "greater than 0"),
])
def test_config_set_validates(run, key, value, message):
    run("init", "--url", "http://127.0.0.1:9", "--api-key", "k")
    before = run.config.read_text()
    code, _, err = run("config", "set", key, value)
    assert code == 2 and message in err
    assert run.config.read_text() == before  # nothing written


# -- fire polish ---------------------------------------------------------------------------

@pytest.fixture
def inited(run):
    assert run("init", "--url", "http://127.0.0.1:9", "--api-key", "k")[0] == 0
    return run


def test_fire_prints_before_and_after_for_each_changed_label(inited, tmp_path):
    order = write_json(tmp_path / "o.json", make_order("F-1", status="New", lines=2))
    code, out, _ = inited("fire", "Order Add Tracking Number", "--order", str(order))
    assert code == 0
    assert "order F-1: New -> Shipped" in out
    assert "line 1: Item Added -> Item Shipped" in out and "line 2:" in out
    # The same event again.
    code, out, _ = inited("fire", "Order Add Tracking Number", "--order", str(order))
    assert "no update queued" in out and "->" not in out


def test_fire_notify_customer_asks_the_oss_to_email(inited, tmp_path):
    order = write_json(tmp_path / "o.json", make_order("F-2", status="New"))
    assert inited("fire", "Order Approve", "--order", str(order), "--notify-customer")[0] == 0
    from seom_client import Client
    with Client(inited.config) as client:
        [update] = client.queue.updates()
    assert update["notify_customer"] is True


def test_fire_refuses_a_label_not_in_the_list(inited, tmp_path):
    order = write_json(tmp_path / "o.json", make_order("F-3", status="New"))
    code, out, err = inited("fire", "Order Change Status", "--order", str(order),
                            "--label", "Bogus Label")
    assert code == 2 and "Bogus Label" in err
    from seom_client import Client
    with Client(inited.config) as client:
        assert client.status()["pending"] == 0


def test_orders_show_prints_what_the_client_remembers(inited, tmp_path):
    order = write_json(tmp_path / "o.json", make_order("F-4", status="New", lines=1))
    inited("fire", "Order Approve", "--order", str(order))
    code, out, _ = inited("orders", "show", "F-4")
    assert code == 0 and "order F-4: Approved" in out and "line 1:" in out
    held = json.loads(inited("orders", "show", "F-4", "--json")[1])
    assert held["status"] == "Approved"
    code, out, _ = inited("orders", "show", "NOPE")
    assert code == 1 and "nothing remembered" in out


@pytest.mark.skipif(shutil.which("head") is None, reason="needs a shell with head")
def test_no_traceback_when_the_reader_goes_away(inited):
    proc = subprocess.run(f'"{sys.executable}" -m seom_client --config "{inited.config}" '
                          "events list | head -1", shell=True, env=_env(), capture_output=True,
                          text=True, timeout=60)
    assert proc.stdout.startswith("status updates:")
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr


def test_network_errors_are_one_plain_sentence(inited, tmp_path):
    write_json(tmp_path / "u.json", {"order": make_order("F-5")})
    inited("enqueue", str(tmp_path / "u.json"))
    code, out, err = inited("run", "--once")
    assert code == 1
    assert err.strip() == ("seom-client: stopped on error: network error: nothing is "
                           "listening at 127.0.0.1:9 (connection refused)")
    code, out, _ = inited("run", "--once", "--json")
    detail = json.loads(out.splitlines()[-1])["detail"]
    assert "ConnectionError" in detail and "Max retries" in detail  # the raw text, on request


# -- check ---------------------------------------------------------------------------------

def test_check_says_when_nothing_listens(run):
    port = free_port()
    run("init", "--url", f"http://127.0.0.1:{port}", "--api-key", "k")
    code, out, err = run("check")
    assert code == 1
    assert err.strip() == (f"seom-client: problem: nothing is listening at 127.0.0.1:{port} "
                           "(connection refused)")


def test_check_says_when_tls_fails(run, receiver):
    run("init", "--url", receiver.url.replace("http://", "https://"), "--api-key", "k")
    code, _, err = run("check")
    assert code == 1 and "secure (TLS) connection" in err
    code, out, _ = run("check", "--json")
    result = json.loads(out)
    assert result["problem"] == "tls" and "SSLError" in result["detail"]


def test_check_a_generic_cart_without_the_store_endpoint(run, receiver):
    # The test receiver answers GET with 501: the stand-in for a cart's own answer.
    run("init", "--generic-cart", "--url", receiver.url + "/hooks/oss", "--api-key", "k")
    code, _, err = run("check")
    assert code == 1 and "HTTP 501" in err


def _two_stores(oss):
    oss("create-merchant", "ok@example.com", input="a long enough passphrase 42\n")
    oss("create-store", "ok@example.com", "ops-shop", "--name", "Ops Shop")
    good = oss("create-api-key", "ops-shop").strip()
    oss("create-merchant", "late@example.com", "--paid-through", "2020-01-31",
        input="a long enough passphrase 42\n")
    oss("create-store", "late@example.com", "late-shop", "--name", "Late Shop")
    lapsed = oss("create-api-key", "late-shop").strip()
    return {"key": good, "lapsed": lapsed, "oss": oss}


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """Start `oss-server run`; yield {url, good key, key of a lapsed store, oss}."""
    with running_oss(tmp_path_factory.mktemp("oss"), "ops-test", _two_stores) as (url, made):
        yield {"url": url, **made}


@pytest.mark.slow
def test_check_against_a_live_server(run, live):
    run("init", "--url", live["url"], "--api-key", live["key"])
    code, out, err = run("check")
    assert code == 0, err
    assert out.startswith("ok: the key works for store 'Ops Shop' (ops-shop)")

    run("config", "set", "api_key", "oss_nope_nope")
    code, _, err = run("check")
    assert code == 1 and "refused the API key (401)" in err

    run("config", "set", "api_key", live["lapsed"])
    code, _, err = run("check")
    assert code == 1 and "has lapsed" in err and "renew" in err

    run("config", "set", "url", live["url"] + "/nested/base")
    run("config", "set", "api_key", live["key"])
    code, _, err = run("check")
    assert code == 1 and "was not found (404)" in err


def _controller(config_path):
    return subprocess.Popen([sys.executable, "-m", "seom_client", "--config", str(config_path),
                             "run"], env=_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def _status(config_path):
    proc = subprocess.run([sys.executable, "-m", "seom_client", "--config", str(config_path),
                           "status", "--json"], env=_env(), capture_output=True, text=True,
                          timeout=60)
    return json.loads(proc.stdout)


def _paused_controller(tmp_path, live, key, name):
    """A running controller paused on a key the server refuses, its re-check an hour away."""
    config = Config.new(live["url"], key, path=tmp_path / name)
    config.settings.update(FAST, pause_recheck_s=3600.0)
    config.save()
    order = write_json(tmp_path / f"{name}.order.json", make_order(f"R-{name}", status="New"))
    assert main(["--config", str(config.path), "fire", "Order Import", "--order",
                 str(order)]) == 0
    proc = _controller(config.path)
    assert _wait(lambda: (_status(config.path)["paused"] or "").startswith("HTTP 40"), 30)
    return config, proc


@pytest.mark.slow
def test_a_paused_controller_resumes_within_seconds_of_a_key_fix(tmp_path, live):
    config, proc = _paused_controller(tmp_path, live, "oss_nope_nope", "a.json")
    try:
        fixed_at = time.monotonic()
        assert main(["--config", str(config.path), "config", "set", "api_key",
                     live["key"]]) == 0
        assert _wait(lambda: _status(config.path)["pending"] == 0, 15), _status(config.path)
        assert time.monotonic() - fixed_at < 15  # the re-check was an hour away
        assert _status(config.path)["paused"] is None
    finally:
        proc.terminate()
        proc.wait(20)


@pytest.mark.slow
def test_resume_nudges_a_controller_after_a_renewal(tmp_path, live):
    config, proc = _paused_controller(tmp_path, live, live["lapsed"], "b.json")
    try:
        assert "402" in _status(config.path)["paused"]
        live["oss"]("renew", "late@example.com", "--until", "2099-12-31")
        renewed_at = time.monotonic()
        assert main(["--config", str(config.path), "resume"]) == 0
        assert _wait(lambda: _status(config.path)["pending"] == 0, 15), _status(config.path)
        assert time.monotonic() - renewed_at < 15
    finally:
        proc.terminate()
        proc.wait(20)
