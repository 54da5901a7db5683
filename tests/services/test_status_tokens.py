"""Status-page links: the same tokens as ever, so links already emailed keep working."""
import types

import pytest
from itsdangerous import URLSafeTimedSerializer

from oss_server.services import tokens
from oss_server.services.tokens import TokenError, make_status_token, read_status_token


@pytest.mark.parametrize("store_id, order_id", [
    (1, 1), (7, 123456), (2**31, 2**40), (1111111111, 1111111111), (0, 10**30)])
@pytest.mark.parametrize("now", [1_700_000_000.25, 4_102_444_800.0])
def test_token_is_the_serializers(monkeypatch, store_id, order_id, now):
    monkeypatch.setattr("itsdangerous.timed.time", types.SimpleNamespace(time=lambda: now))
    expected = URLSafeTimedSerializer("secret", salt=tokens._SALT).dumps([store_id, order_id])
    assert make_status_token("secret", store_id, order_id) == expected


def test_token_reads_back_and_is_bound_to_its_key():
    token = make_status_token("secret", 3, 42)
    assert read_status_token("secret", token, 30) == (3, 42)
    with pytest.raises(TokenError):
        read_status_token("other secret", token, 30)
