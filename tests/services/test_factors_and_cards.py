"""Factor normalisation and the card-number scan."""
import pytest

from oss_server.security.factors import (
    hash_factors,
    matches,
    normalise_phone,
    normalise_shopper_email,
    normalise_zip,
    verifier_hashes,
)
from seom_client.screening import contains_card_number, luhn_ok

KEY = "k"


@pytest.mark.parametrize("typed,stored", [
    ("10001", "10001-1234"), ("10001-1234", "10001"), ("100011234", "10001"),
    ("sw1a 1aa", "SW1A1AA"), (" k1a 0b1 ", "K1A0B1"),
])
def test_zip_forms_match(typed, stored):
    assert normalise_zip(typed) == normalise_zip(stored)


def test_email_and_phone_forms():
    assert normalise_shopper_email("  Pat@Example.COM ") == "pat@example.com"
    assert normalise_phone("+1 (212) 555-0199") == normalise_phone("212.555.0199") == "2125550199"


@pytest.mark.parametrize("verifier", ["10001", "10001-9999", "PAT@example.com ",
                                      "(212) 555-0199", "+1 212 555 0199"])
def test_verifier_matches_one_stored_factor(verifier):
    stored = hash_factors(KEY, "10001-1234", "pat@example.com", "+1 212-555-0199")
    typed = verifier_hashes(KEY, verifier)
    hits = [kind for kind in ("zip", "email", "phone")
            if matches(stored[f"{kind}_hash"], typed[kind])]
    assert hits


def test_wrong_or_absent_factor_never_matches():
    stored = hash_factors(KEY, "10001", None, None)
    assert not matches(stored["email_hash"], verifier_hashes(KEY, "a@b.c")["email"])
    assert not matches(stored["zip_hash"], verifier_hashes(KEY, "10002")["zip"])
    assert not matches(None, None)


def test_hash_depends_on_the_key():
    assert hash_factors("a", "10001", None, None) != hash_factors("b", "10001", None, None)


@pytest.mark.parametrize("text", ["4111111111111111", "4111-1111-1111-1111",
                                  "card 5500 0000 0000 0004 thanks", "378282246310005",
                                  "Gift 4111 1111 1111 1111 2", "exp 12 4111-1111-1111-1111"])
def test_card_numbers_found(text):
    assert contains_card_number(text)


@pytest.mark.parametrize("text", ["4111111111111112", "Order 12345", "SKU 1234567890123 4",
                                  "41111111111111110000000"])
def test_non_cards_pass(text):
    assert not contains_card_number(text)


def test_luhn():
    assert luhn_ok("79927398713") and not luhn_ok("79927398710")
