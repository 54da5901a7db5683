"""Normalise and hash the shopper's verification factors (ZIP, email, phone)."""
from __future__ import annotations

import hashlib
import hmac
import re

_US_ZIP = re.compile(r"^(\d{5})(?:-?\d{4})?$")
_NON_DIGIT = re.compile(r"\D+")
_EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+$")

# Hashed when no order matches, so a miss costs the same work as a hit.
DUMMY_HASH = "0" * 64


def normalise_zip(value: str) -> str:
    """Upper-case, drop spaces; a US ZIP+4 becomes its 5-digit ZIP."""
    compact = "".join(value.split()).upper()
    match = _US_ZIP.match(compact)
    return match.group(1) if match else compact


def normalise_shopper_email(value: str) -> str:
    """Trim and case-fold a shopper's email factor (account emails are only lower-cased)."""
    return value.strip().casefold()


def normalise_phone(value: str) -> str:
    """Keep the last 10 digits, so punctuation and a country code do not matter."""
    return _NON_DIGIT.sub("", value)[-10:]


def factor_hash(key: str, kind: str, normalised: str) -> str:
    """Keyed hash of one normalised factor; *kind* keeps ZIP and phone spaces apart."""
    message = f"{kind}:{normalised}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


class FactorHasher:
    """``factor_hash`` under one key, with the key's HMAC state prepared once.

    Ingestion hashes three factors per update; keying a fresh HMAC for each costs more
    than the hashing itself.
    """

    def __init__(self, key: str):
        self._keyed = hmac.new(key.encode(), digestmod=hashlib.sha256)

    def hash(self, kind: str, normalised: str) -> str:
        """Return ``factor_hash(key, kind, normalised)``."""
        mac = self._keyed.copy()
        mac.update(f"{kind}:{normalised}".encode())
        return mac.hexdigest()

    def bill_to(self, zip_code: str | None, email: str | None, phone: str | None) -> dict:
        """Return ``hash_factors(key, zip_code, email, phone)``."""
        zip_code = zip_code and normalise_zip(zip_code)
        email = email and normalise_shopper_email(email)
        phone = phone and normalise_phone(phone)
        return {"zip_hash": self.hash("zip", zip_code) if zip_code else None,
                "email_hash": self.hash("email", email) if email else None,
                "phone_hash": self.hash("phone", phone) if phone else None}


def hash_factors(key: str, zip_code: str | None, email: str | None, phone: str | None) -> dict:
    """Hash the factors present in a bill-to block; absent ones stay None."""
    return FactorHasher(key).bill_to(zip_code, email, phone)


def verifier_hashes(key: str, verifier: str) -> dict[str, str | None]:
    """Hash what a shopper typed in every form it could take."""
    email = normalise_shopper_email(verifier) if _EMAIL_SHAPE.match(verifier.strip()) else ""
    phone = normalise_phone(verifier)
    # A phone needs at least 7 digits; shorter digit runs are ZIPs.
    phone = phone if len(phone) >= 7 else ""
    zip_code = normalise_zip(verifier) if not email else ""
    return {
        "zip": factor_hash(key, "zip", zip_code) if zip_code else None,
        "email": factor_hash(key, "email", email) if email else None,
        "phone": factor_hash(key, "phone", phone) if phone else None,
    }


def matches(stored: str | None, typed: str | None) -> bool:
    """Compare two hashes in constant time; a missing side never matches."""
    same = hmac.compare_digest(stored or DUMMY_HASH, typed or DUMMY_HASH)
    return same and stored is not None and typed is not None
