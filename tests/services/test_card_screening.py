"""Card numbers however they are written, in every scanned field; barcodes are not cards."""
import copy
import logging

import pytest

from oss_server.logs import redact
from oss_server.schemas.fast_path import fast_path_load as fast_load
from oss_server.schemas.updates import UpdateIn
from seom_client.screening import (
    CARD_IN_TEXT,
    CARD_RUN,
    contains_card_number,
    is_gtin,
    luhn_ok,
    screen,
)

from ..api.test_update_check import assert_same
from ..conftest import make_update

# One test card, written every way a person or a spreadsheet might.
SEPARATED = {
    "double spaces": "4111  1111  1111  1111",
    "tab": "4111\t1111\t1111\t1111",
    "no-break space": "4111\u00a01111\u00a01111\u00a01111",
    "thin space": "4111\u20091111\u20091111\u20091111",
    "newline": "4111\n1111\n1111\n1111",
    "dots": "4111.1111.1111.1111",
    "slashes": "4111/1111/1111/1111",
    "underscores": "4111_1111_1111_1111",
    "spaced dash": "4111 - 1111 - 1111 - 1111",
    "mixed": "4111 .1111-/1111_ 1111",
    "amex groups": "3782 822463 10005",
}
# Valid EAN-13 / GTIN-14 barcodes that also pass Luhn: product codes, not cards.
GTINS = ["4006381334013", "10614140000072", "4006 3813 3401 3"]
FIELDS = ["order.items.0.sku", "order.items.0.line_id", "order.items.0.name"]


def _with(path: str, value: str) -> dict:
    update = make_update()
    node = update
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node[part]
    node[parts[-1]] = value
    return update


@pytest.mark.parametrize("text", SEPARATED.values(), ids=SEPARATED.keys())
def test_every_separator_is_seen_through(text):
    assert contains_card_number(text)
    assert contains_card_number(f"Gift card {text} thanks")


@pytest.mark.parametrize("code", GTINS)
def test_barcodes_that_pass_luhn_are_not_cards(code):
    digits = code.replace(" ", "")
    assert luhn_ok(digits) and is_gtin(digits)
    assert not contains_card_number(code)
    assert not contains_card_number(f"Mixer, EAN {code}")


def test_gtin_check_digit():
    assert is_gtin("4006381334013") and not is_gtin("4006381334012")
    assert is_gtin("00012345600012") and not is_gtin("4111111111111111")
    # A 13-digit card whose check digit is not a barcode's is still a card.
    assert luhn_ok("4222222222222") and not is_gtin("4222222222222")
    assert contains_card_number("4222222222222")


@pytest.mark.parametrize("text", ["41111111111111110000000", "1234 5678 9012 3456",
                                  "Order 12345", "2026-11-20 10:00", "Pack of 12 - 24 x 500 ml"])
def test_ordinary_digits_are_not_cards(text):
    assert not contains_card_number(text)


def test_screen_names_the_field_never_the_value():
    update = _with("order.items.0.sku", SEPARATED["tab"])
    update["order"]["order_number"] = "4111111111111111"  # an identifier: not scanned
    update["order"]["tracking"] = [{"number": "4111111111111111"}]
    errors = screen(update)
    assert errors == {"order.items.0.sku": CARD_IN_TEXT}


@pytest.mark.parametrize("path", FIELDS)
@pytest.mark.parametrize("text", SEPARATED.values(), ids=SEPARATED.keys())
def test_card_in_scanned_field_is_rejected_through_the_api(api, path, text, caplog):
    caplog.set_level(logging.DEBUG)
    value = text if path.endswith("name") else text[:64]
    response = api.post(_with(path, value), make_update("u-2", order_number="1002"))
    assert response.status_code == 200
    first, second = response.get_json()["results"]
    assert first["result"] == "rejected" and first["errors"] == {path: CARD_IN_TEXT}
    assert second["result"] == "applied"
    assert "4111" not in response.get_data(as_text=True)
    assert "4111" not in caplog.text
    assert api.order("1001").status_code == 404


@pytest.mark.parametrize("path", ["order.items.0.sku", "order.items.0.name"])
@pytest.mark.parametrize("code", GTINS)
def test_barcodes_are_accepted_through_the_api(api, path, code):
    assert api.results(_with(path, code)) == ["applied"]
    item = api.order("1001").get_json()["items"][0]
    assert item[path.rsplit(".", 1)[1]] == code


@pytest.mark.parametrize("path", FIELDS)
@pytest.mark.parametrize("value", [*SEPARATED.values(), *GTINS])
def test_fast_validator_agrees_with_the_schema(path, value):
    raw = _with(path, value)
    assert_same(raw)
    if not contains_card_number(value) and "\n" not in value and "\t" not in value:
        assert fast_load(copy.deepcopy(raw)) == UpdateIn().load(copy.deepcopy(raw))


@pytest.mark.parametrize("text", SEPARATED.values(), ids=SEPARATED.keys())
def test_log_redaction_masks_every_variant(text):
    line = f"client sent {text} in a name"
    masked = redact(line)
    assert "4111" not in masked and "[digits redacted]" in masked
    assert CARD_RUN.search(line) and not CARD_RUN.search(masked)


def test_log_redaction_with_a_real_logger(caplog):
    caplog.set_level(logging.INFO)
    for text in SEPARATED.values():
        logging.getLogger("oss_server.test").warning("sku %s refused", text)
    assert caplog.records and "4111" not in caplog.text


def test_long_runs_of_short_groups_stay_cheap_and_still_find_the_card():
    import time

    filler = "1 " * 50_000  # 100,000 characters of one-digit groups: no card among them
    started = time.perf_counter()
    assert not contains_card_number(filler)
    assert contains_card_number(filler + "x 4111.1111.1111.1111")
    # Was quadratic (a list copy per group): 7 s; now about 0.5 s. Bound with a wide margin.
    assert time.perf_counter() - started < 5
