"""The shopper email rule: one plain address; ASCII addresses take a faster pattern."""
from __future__ import annotations

import pytest

from oss_server.schemas.fields import EMAIL_PATTERN, is_single_address

# Each ASCII character, in each place of an address where a rule applies to it.
PLACES = ["{c}", "a{c}b@shop.example", "{c}b@shop.example", "a@{c}shop.example",
          "a@sh{c}op.example", "a@shop{c}.example", "a@shop.{c}", "a@shop.exampl{c}",
          "a{c}@b.c", "a@b{c}c.d"]


@pytest.mark.parametrize("place", PLACES)
def test_ascii_addresses_follow_the_one_rule(place):
    values = [place.format(c=chr(code)) for code in range(128)]
    # The rule ignores spaces around an address (is_single_address strips them).
    differ = [value for value in values if is_single_address(value)
              != (EMAIL_PATTERN.fullmatch(value.strip(" ")) is not None)]
    assert differ == []


@pytest.mark.parametrize("value, verdict", [
    ("pat@shop.example", True), ("  pat@shop.example ", True), ("o'brien+tag@x.example", True),
    ("kim@bücher.example", True), ("ünal@shop.example", True), ("a@b", False),
    ("a@-shop.example", False), ("a@shop-.example", False), ("a@sh_op.example", False),
    ("a@shop..example", False), ("a,b@shop.example", False), ("a@shop.example\n", False),
    ("x" * 65 + "@shop.example", False), ("x" * 64 + "@shop.example", True),
    ("a@" + "l" * 64 + ".example", False), ("a@" + "l" * 63 + ".example", True),
    ("a@" + ".".join(["l" * 60] * 5), False),
])
def test_the_rule(value, verdict):
    assert is_single_address(value) is verdict
