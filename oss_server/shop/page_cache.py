"""Rendered status pages, remembered by everything they are made from.

Rendering the status page (about forty translated strings, escaping, locale-aware dates)
costs several times the reads behind it. A page is a pure function of the store's
shopper-facing settings, the order's content, the shopper's locale and the request path.
The key is the store row as just read (its label wording per language, label stages and
time zone included), the order's version (the ordering key of the snapshot it holds, which
every change to what a shopper sees moves forward), the locale and the path: a renamed
label, a new update, another time zone or another language gives a new key at once. The
standard labels' own wording is fixed data, the same for the life of the process.
Nothing can be stale, and no worker has to tell another anything. Pages with a flashed
message (which lives in the session) are never cached.
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict


class PageCache:
    """A bounded least-recently-used map of page keys to rendered HTML."""

    def __init__(self, size: int):
        self.size = size
        self._pages: OrderedDict[bytes, str] = OrderedDict()
        self._lock = threading.Lock()  # gthread workers share one cache

    @staticmethod
    def key(*parts) -> bytes:
        """Digest *parts* (named tuples, lists, dates: anything with a faithful repr)."""
        return hashlib.blake2b(repr(parts).encode(), digest_size=20).digest()

    def get(self, key: bytes) -> str | None:
        """Return the page stored under *key*, or None."""
        with self._lock:
            html = self._pages.get(key)
            if html is not None:
                self._pages.move_to_end(key)
            return html

    def put(self, key: bytes, html: str) -> None:
        """Remember *html* under *key*, forgetting the least recently used beyond the size."""
        if self.size <= 0:
            return
        with self._lock:
            self._pages[key] = html
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)
