"""The Redis the limit tests share: its URL, or a skip when none answers."""
from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest


def redis_url_or_skip() -> str:
    """``OSS_TEST_REDIS_URL`` (default the local server's database 0), or skip the test.

    The tests prefix their keys with a name of their own and remove only those, so a
    shared database is left as it was.
    """
    url = os.environ.get("OSS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    where = urlsplit(url)
    try:
        socket.create_connection((where.hostname, where.port or 6379), timeout=1).close()
    except OSError as exc:
        pytest.skip(f"no Redis at {where.hostname}:{where.port or 6379} ({exc})")
    return url
