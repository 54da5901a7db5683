"""Card and street data never leave the order manager: refused before anything is written."""

import copy
from pathlib import Path

import pytest

from seom_client import UpdateError
from seom_client.errors import SensitiveDataError

from .conftest import make_order, write_json

CARD = "4111111111111111"          # a test Visa number: passes Luhn
AMEX = "378282246310005"
STREET = "221B Baker Street"
# The traces a refused update could leave: the card digits, their written forms, the street.
SECRETS = [CARD, AMEX, "4111 1111", "1111-1111", "2463100", "Baker Street"]


def _set(order, path, value):
    """Set order[path] where path is a dotted path (list indexes as numbers)."""
    *parents, last = path.split(".")
    node = order
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    node[last] = value


# Each kind of sensitive data: (field path in the order, value, path named in the error).
KINDS = {
    "card in an item name, spaces": ("items.0.name", "Gift card 4111 1111 1111 1111 for Ada",
                                     "order.items.0.name"),
    "card in an item name, dashes": ("items.1.name", "Mug 4111-1111-1111-1111",
                                     "order.items.1.name"),
    "card with dots and slashes": ("items.0.sku", "4111.1111/1111_1111", "order.items.0.sku"),
    "card with a no-break space": ("ship_to.name", "Ada 3782\u00a0822463\u00a010005",
                                   "order.ship_to.name"),
    "card run in the bill-to name": ("bill_to.name", f"Ada {AMEX}", "order.bill_to.name"),
    "card_number key at the top": ("card_number", CARD, "order.card_number"),
    "cvv key in bill_to": ("bill_to.cvv", "123", "order.bill_to.cvv"),
    "address_line1 in ship_to": ("ship_to.address_line1", STREET, "order.ship_to.address_line1"),
    "street key deep in a line": ("items.1.gift.recipient.street", STREET,
                                  "order.items.1.gift.recipient.street"),
    "expiry in a payment object": ("payment.expiry", "12/29", "order.payment.expiry"),
}


def _order(kind):
    path, value, _ = KINDS[kind]
    order = make_order()
    _set(order, path, value)
    return order


def _traces(folder):
    """Return the secrets found in the bytes of any file under folder."""
    found = set()
    for file in Path(folder).rglob("*"):
        if file.is_file():
            data = file.read_bytes()
            found |= {s for s in SECRETS if s.encode() in data or s.encode("utf-16-le") in data}
    return found


@pytest.fixture
def primed(make_client):
    """A client whose queue file (with its -wal and -shm) exists and holds one update."""
    client = make_client()
    assert client.fire("Order Approve", make_order("clean")).queued
    assert any(p.name.endswith("-wal") for p in client.queue.path.parent.iterdir())
    return client


def _assert_refused(exc, kind, client):
    _, value, named = KINDS[kind]
    assert isinstance(exc, UpdateError)
    assert named in exc.fields
    message = str(exc)
    assert named in message
    for secret in SECRETS + [value]:
        assert secret not in message
    assert client.queue.counts()["pending"] == 1
    assert client.remembered("1001") is None


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_fire_refuses_before_writing(primed, kind, tmp_path):
    with pytest.raises(SensitiveDataError) as info:
        primed.fire("Order Approve", _order(kind))
    _assert_refused(info.value, kind, primed)
    assert _traces(tmp_path) == set()  # the -wal file included
    primed.close()
    assert _traces(tmp_path) == set()


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_enqueue_refuses_before_writing(primed, kind, tmp_path):
    with pytest.raises(SensitiveDataError) as info:
        primed.enqueue({"order": _order(kind), "event": "Order Approve"})
    _assert_refused(info.value, kind, primed)
    with pytest.raises(SensitiveDataError):
        primed.enqueue_many([{"order": make_order("2002")}, {"order": _order(kind)}])
    assert primed.queue.counts()["pending"] == 1  # all or none
    assert _traces(tmp_path) == set()  # the -wal file included
    primed.close()
    assert _traces(tmp_path) == set()


def test_a_tuple_from_a_python_caller_is_screened_as_a_list(primed, tmp_path):
    # JSON stores a tuple as an array: what is in it reaches the disk like a list's items.
    order = make_order("2002")
    order["items"] = tuple(order["items"])
    order["items"][0]["sku"] = CARD
    with pytest.raises(SensitiveDataError, match=r"order\.items\.0\.sku"):
        primed.enqueue({"order": order, "event": "Order Approve"})
    assert primed.queue.counts()["pending"] == 1
    primed.close()
    assert _traces(tmp_path) == set()


@pytest.mark.parametrize("event", ["Item Revise", "Order Approve"])
def test_refused_even_when_no_update_would_be_queued(primed, event, tmp_path):
    # Item Revise does not notify, and the second Approve changes nothing: the memory
    # would still be written, so the rule holds there too.
    primed.fire("Order Approve", make_order("1001"))
    order = make_order("1001")
    order["items"][0]["line_id"] = CARD
    with pytest.raises(SensitiveDataError, match=r"order\.items\.0\.line_id"):
        primed.fire(event, order, items=None)
    assert _traces(tmp_path) == set()  # the -wal file included
    primed.close()
    assert _traces(tmp_path) == set()


def test_a_key_that_is_itself_data_is_not_printed(primed):
    order = make_order()
    order["ship_to"][f"{STREET} street"] = "x"
    order["items"][0][f"card {CARD}"] = "x"
    with pytest.raises(SensitiveDataError) as info:
        primed.enqueue({"order": order})
    assert set(info.value.fields) == {"order.ship_to.[key]", "order.items.0.[key]"}
    assert "Baker" not in str(info.value) and CARD not in str(info.value)


def test_ordinary_numbers_pass(primed):
    order = make_order("9781234567897",  # order numbers are the merchant's own
                       tracking=[{"number": "4111111111111111"}])  # tracking numbers too
    order["items"][0]["sku"] = "4006381333931"  # an EAN-13 barcode, not a card
    order["items"][1]["name"] = "Box of 1000 screws, 25 mm, pack 4 x 250"
    order["bill_to"]["phone"] = "+1 415 555 0100"
    assert primed.fire("Order Approve", copy.deepcopy(order)).queued


def test_the_cli_exits_2_naming_the_field(make_config, cli, tmp_path):
    config = make_config()
    order = make_order()
    order["ship_to"]["address_line1"] = STREET
    order_file = write_json(tmp_path / "order.json", order)
    fired = cli("fire", "Order Approve", "--order", str(order_file), config=config.path, check=2)
    update_file = write_json(tmp_path / "update.json", {"order": _order("card in an item name, "
                                                                        "spaces")})
    queued = cli("enqueue", str(update_file), config=config.path, check=2)
    assert "order.ship_to.address_line1" in fired.stderr
    assert "order.items.0.name" in queued.stderr
    for output in (fired.stdout + fired.stderr, queued.stdout + queued.stderr):
        assert "Baker" not in output and "4111" not in output and "Traceback" not in output
    order_file.unlink()
    update_file.unlink()
    assert _traces(tmp_path) == set()
