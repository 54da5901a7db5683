"""Fixtures for the hardening tests: two stores with keys and orders, captured logs."""
from __future__ import annotations

import pytest

from ..conftest import Api, make_update

# Limits high enough that fuzzing and bad-input runs measure validation, not throttling.
UNTHROTTLED = {"OSS_API_RATE_LIMIT": "1000000 per minute",
               "OSS_LOOKUP_LIMIT_PER_IP": "1000000 per minute",
               "OSS_LOOKUP_LIMIT_PER_ORDER": "1000000 per minute"}


@pytest.fixture
def app_config():
    return dict(UNTHROTTLED)


class Tenant:
    """One store with its API key and the order numbers it holds."""

    def __init__(self, store, key, api, numbers):
        self.store, self.key, self.api, self.numbers = store, key, api, numbers


@pytest.fixture
def two_stores(client, make_store, make_api_key):
    """Stores A and B, each with a key and two orders of its own."""
    tenants = []
    for prefix in ("A", "B"):
        store = make_store(slug=f"fuzz-{prefix.lower()}")
        key = make_api_key(store)
        api = Api(client, key)
        numbers = [f"{prefix}-1001", f"{prefix}-1002"]
        assert api.results(*(make_update(f"{prefix}-u{i}", i, order_number=n,
                                         cart_order_number=f"W{n}")
                             for i, n in enumerate(numbers))) == ["applied", "applied"]
        tenants.append(Tenant(store, key, api, numbers))
    return tenants
