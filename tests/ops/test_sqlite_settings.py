"""Every SQLite connection of the server is durable, checks foreign keys and reads mapped."""
from __future__ import annotations

import pytest

from oss_server.extensions import db
from oss_server.storage.sqlite_settings import SQLITE_MMAP_BYTES


@pytest.fixture
def app_config(database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite settings")
    return {}


def test_each_pooled_connection_gets_the_settings(app):
    # Several connections at once: each new one is set up, not only the first.
    connections = [db.engine.raw_connection() for _ in range(3)]
    try:
        for raw in connections:
            def read(pragma, raw=raw):
                return raw.cursor().execute(f"PRAGMA {pragma}").fetchone()[0]
            assert read("journal_mode") == "wal"
            assert read("synchronous") == 2  # FULL: an applied update survives a power cut
            assert read("foreign_keys") == 1
            assert read("busy_timeout") == 10000
            assert read("mmap_size") == SQLITE_MMAP_BYTES
    finally:
        for raw in connections:
            raw.close()
