"""``sequence`` runs 0 … 2^63−1 (a millisecond clock is a fine counter), stored and ordered."""
import pytest

from oss_server.api.openapi import build_spec
from oss_server.schemas.fast_path import fast_path_load as fast_load

from ..conftest import make_update

WHEN = "2026-11-20T10:00:00+00:00"
TOP = 2**63 - 1


def test_large_sequences_are_accepted_and_ordered(api):
    assert api.results(make_update("a", 2**62, WHEN, status="Approved")) == ["applied"]
    assert api.results(make_update("b", TOP, WHEN, status="Shipped")) == ["applied"]
    # Same time, smaller counter: older, whatever its size.
    assert api.results(make_update("c", 2**62 + 1, WHEN, status="Received")) == ["stale"]
    assert api.results(make_update("d", TOP, WHEN, status="Received")) == ["stale"]
    assert api.order("1001").get_json()["status"] == "Shipped"


def test_counter_jump_from_small_to_huge_orders(api):
    assert api.results(make_update("a", 2**31 - 1, WHEN, status="Approved")) == ["applied"]
    assert api.results(make_update("b", 1_765_000_000_000, WHEN, status="Shipped")) == ["applied"]
    assert api.results(make_update("c", 2**31, WHEN, status="Received")) == ["stale"]
    assert api.order("1001").get_json()["status"] == "Shipped"


@pytest.mark.parametrize("value", [2**63, 2**64, 10**30])
def test_past_64_bits_is_a_field_error(api, value):
    response = api.post(make_update("big", value, WHEN), make_update("ok", 5, WHEN,
                                                                      order_number="1002"))
    assert response.status_code == 200
    first, second = response.get_json()["results"]
    assert first["result"] == "rejected" and list(first["errors"]) == ["sequence"]
    assert second["result"] == "applied"
    assert fast_load(make_update("big", value, WHEN)) is None


def test_openapi_says_int64():
    sequence = build_spec()["components"]["schemas"]["Update"]["properties"]["sequence"]
    assert sequence["format"] == "int64"
    assert sequence["minimum"] == 0 and sequence["maximum"] == TOP
