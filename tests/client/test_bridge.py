"""The site's bridge (`seom-client serve`): one queue, one memory, one sequence per site."""

import json
import re
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from seom_client import Config, bridge
from seom_client.bridge import make_server
from seom_client.errors import ConfigError, EventError, UpdateError
from seom_client.remote import BridgeUnavailableError, RemoteSite

from .conftest import REPO, make_order

TOKEN = "bridge-token-for-tests"


@pytest.fixture
def site(make_client, receiver):
    """A bridge on a loopback port in front of a Client that sends to the receiver."""
    client = make_client(receiver.url)
    server = make_server(client, "127.0.0.1:0", token=TOKEN)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    yield client, f"http://{host}:{port}"
    server.shutdown()
    server.server_close()


def _post(url, path, body, token=TOKEN):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(url + path, json=body, headers=headers, timeout=30)


def test_three_workstations_firing_at_once_queue_one_update_per_change(site, receiver):
    client, url = site
    orders = [make_order(str(n)) for n in range(2001, 2006)]
    events = ["Order Approve", "Order Pack", "Order Set Actual Ship Date"]

    def workstation(_):
        remote = RemoteSite(url, TOKEN)
        answers = []
        for event in events:
            for order in orders:
                answers.append(remote.fire(event, order))
        return answers

    with ThreadPoolExecutor(3) as pool:
        answers = [a for batch in pool.map(workstation, range(3)) for a in batch]

    queued = [a for a in answers if a["queued"]]
    # Each (event, order) changes a label once for the site, however many fire it.
    per_order = {}
    for answer in queued:
        per_order.setdefault(answer["update_id"], answer)
    assert len(queued) == len(per_order)
    expected = sum(1 for e in events for _ in orders if client.config.rule(e).notify
                   and (client.config.rule(e).order_status or client.config.rule(e).item_status))
    assert len(queued) == expected
    assert client.flush(timeout=30)
    assert all(count == 1 for count in receiver.applied.values())
    for order in orders:
        sequences = receiver.sequence_by_order[order["order_number"]]
        assert sequences == sorted(sequences), "the site's sequence went backwards"
    # A fourth fire of the same event from the same file changes nothing.
    again = RemoteSite(url, TOKEN).fire(events[-1], orders[0])
    assert again["queued"] is False


def test_the_token_is_required_and_compared(site):
    _, url = site
    order = make_order("3001")
    assert _post(url, "/v1/fire", {"event": "Order Approve", "order": order},
                 token=None).status_code == 401
    wrong = _post(url, "/v1/fire", {"event": "Order Approve", "order": order}, token="nope")
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "unauthorized"
    assert requests.get(url + "/v1/status", timeout=10).status_code == 401


def test_bad_requests_get_a_json_error_and_change_nothing(site):
    client, url = site
    unknown = _post(url, "/v1/fire", {"event": "Order Teleport", "order": make_order("3002")})
    assert unknown.status_code == 400
    assert unknown.json()["error"]["code"] == "unknown_event"
    no_order = _post(url, "/v1/fire", {"event": "Order Approve"})
    assert no_order.status_code == 400
    not_json = requests.post(url + "/v1/fire", data=b"{nope",
                             headers={"Authorization": f"Bearer {TOKEN}",
                                      "Content-Type": "application/json"}, timeout=10)
    assert not_json.status_code == 400
    assert not_json.json()["error"]["code"] == "invalid_json"
    big = _post(url, "/v1/enqueue", {"order": make_order("3003"), "pad": "x" * (1024 * 1024)})
    assert big.status_code == 413
    assert client.status()["pending"] == 0


def test_card_numbers_are_refused_with_the_field_named(site, tmp_path):
    client, url = site
    order = make_order("3004")
    order["items"][0]["name"] = "Gift for 4111 1111 1111 1111"
    answer = _post(url, "/v1/fire", {"event": "Order Approve", "order": order})
    assert answer.status_code == 400
    assert "order.items.0.name" in answer.json()["error"]["message"]
    assert "4111" not in answer.text
    for path in tmp_path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"4111 1111" not in data and b"4111111111111111" not in data, path
    assert client.status()["pending"] == 0


def test_status_and_memory_are_the_sites(site):
    client, url = site
    remote = RemoteSite(url, TOKEN)
    answer = remote.fire("Order Approve", make_order("3005"))
    assert answer["queued"] is True
    assert answer["changes"][0]["level"] == "order"
    assert remote.status()["pending"] == client.status()["pending"] == 1
    remembered = remote.remembered("3005")
    assert remembered is not None and "Approved" in json.dumps(remembered)
    assert remote.remembered("no-such-order") is None
    enqueued = remote.enqueue({"order": make_order("3006", status="Shipped")})
    assert enqueued["update_id"]


def test_remote_errors_are_plain(site):
    _, url = site
    remote = RemoteSite(url, TOKEN)
    with pytest.raises(EventError):
        remote.fire("Order Teleport", make_order("3007"))
    with pytest.raises(UpdateError):
        remote.fire("Order Approve", {"status": "x"})
    with pytest.raises(BridgeUnavailableError, match="token"):
        RemoteSite(url, "wrong").status()


def test_an_unreachable_bridge_fails_loudly():
    remote = RemoteSite("http://127.0.0.1:9", TOKEN, timeout_s=2)
    with pytest.raises(BridgeUnavailableError, match="cannot be reached"):
        remote.fire("Order Approve", make_order("3008"))


def test_serve_refuses_other_machines_without_a_token(make_client):
    client = make_client()
    with pytest.raises(ConfigError, match="bridge token"):
        make_server(client, "0.0.0.0:0", token=None)
    server = make_server(client, "127.0.0.1:0", token=None)  # loopback: allowed
    server.server_close()


def test_fires_committed_together_keep_each_callers_outcome(site):
    client, url = site

    def fire(n):
        order = make_order(f"G-{n}")
        if n % 5 == 0:  # refused: the others committed with it are kept
            order["items"][0]["name"] = "Card 4111 1111 1111 1111"
        return n, _post(url, "/v1/fire", {"event": "Order Approve", "order": order})

    with ThreadPoolExecutor(8) as pool:
        answers = dict(pool.map(fire, range(40)))
    for n, answer in answers.items():
        if n % 5 == 0:
            assert answer.status_code == 400 and "4111" not in answer.text
        else:
            assert answer.status_code == 200 and answer.json()["queued"] is True
    assert client.status()["pending"] == 32
    sequences = [u["sequence"] for u in client.queue.updates()]
    assert sequences == sorted(set(sequences))  # one site-wide sequence, no gaps in order


def test_fire_many_refuses_one_call_and_keeps_the_rest(make_client):
    client = make_client()
    bad = make_order("F-2")
    bad["items"][0]["name"] = "Card 4111 1111 1111 1111"
    outcomes = client.fire_many([("Order Approve", make_order("F-1"), None, None, None),
                                 ("Order Approve", bad, None, None, None),
                                 ("Order Teleport", make_order("F-3"), None, None, None),
                                 ("Order Approve", make_order("F-1"), None, None, None)])
    assert outcomes[0].queued is True
    assert isinstance(outcomes[1], UpdateError) and isinstance(outcomes[2], EventError)
    assert outcomes[3].queued is False  # the first call's change is seen in the same commit
    assert [u["order"]["order_number"] for u in client.queue.updates()] == ["F-1"]
    assert client.remembered("F-2") is None


def test_the_documented_curl_fire_works(site):
    client, url = site
    text = (REPO / "docs" / "client.md").read_text()
    block = re.search(r"One fire from \*\*curl\*\*.*?```sh\n(.*?)```", text, re.S).group(1)
    body = json.loads(re.search(r"-d '(.*?)'", block, re.S).group(1))
    assert "/v1/fire" in block and "Authorization: Bearer $SEOM_BRIDGE_TOKEN" in block
    answer = _post(url, "/v1/fire", body)
    assert answer.status_code == 200 and answer.json()["queued"] is True
    assert client.remembered("1001")["status"] == "Approved"


def test_labels_added_on_the_site_machine_take_effect_at_the_next_fire(site):
    client, url = site
    order = make_order("3010")
    refused = _post(url, "/v1/fire", {"event": "Order Change Status", "order": order,
                                      "label": "Waiting for Glaze"})
    assert refused.status_code == 400
    config = Config.load(client.config.path)
    config.labels.append("Waiting for Glaze")
    config.save()  # as `seom-client labels add` does, while serve runs
    answer = _post(url, "/v1/fire", {"event": "Order Change Status", "order": order,
                                     "label": "Waiting for Glaze"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["changes"][0]["after"] == "Waiting for Glaze"


def test_a_silent_connection_is_closed_not_kept_forever(site, monkeypatch):
    monkeypatch.setattr(bridge._Handler, "timeout", 0.5)
    _, url = site
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        assert conn.recv(1) == b""  # closed by the bridge, not left waiting for a request
    assert requests.get(url + "/v1/status", headers={"Authorization": f"Bearer {TOKEN}"},
                        timeout=10).status_code == 200


def test_expect_100_continue_as_windows_powershell_sends_it(site):
    client, url = site
    host, port = url.removeprefix("http://").split(":")
    body = json.dumps({"event": "Order Approve", "order": make_order("3011")}).encode()
    head = (f"POST /v1/fire HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Expect: 100-continue\r\n\r\n").encode()
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(head)
        assert conn.recv(1024).startswith(b"HTTP/1.1 100")  # the body is sent only then
        conn.sendall(body)
        answer = b""
        while b'"reason"' not in answer:
            chunk = conn.recv(4096)
            assert chunk, answer
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200") and b'"queued": true' in answer
    assert client.remembered("3011")["status"] == "Approved"
