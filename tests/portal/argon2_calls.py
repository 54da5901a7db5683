"""Argon2's work counted, for tests that check how many password checks a request costs.

Every ``PasswordHasher`` is patched (its public ``verify`` and ``hash``), so no test needs
to know which module holds the service's hasher. Given ``seconds``, each call also takes
that long, as a real argon2 check does: the window a racing burst would slip through.
"""
from __future__ import annotations

import threading
import time

from argon2 import PasswordHasher


class Argon2Calls:
    """Counts of ``verify`` and ``hash`` calls since the patch (or since reset)."""

    def __init__(self, monkeypatch, seconds: float = 0.0):
        self.verifications = self.hashes = 0
        self._seconds, self._lock = seconds, threading.Lock()
        real_verify, real_hash = PasswordHasher.verify, PasswordHasher.hash

        def verify(hasher, *args, **kwargs):
            self._count("verifications")
            return real_verify(hasher, *args, **kwargs)

        def hash_(hasher, *args, **kwargs):
            self._count("hashes")
            return real_hash(hasher, *args, **kwargs)

        monkeypatch.setattr(PasswordHasher, "verify", verify)
        monkeypatch.setattr(PasswordHasher, "hash", hash_)

    def _count(self, name: str) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)
        if self._seconds:
            time.sleep(self._seconds)

    def reset(self) -> None:
        with self._lock:
            self.verifications = self.hashes = 0
