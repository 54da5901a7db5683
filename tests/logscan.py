"""Every log line the whole suite produces, checked for secrets when the run ends.

The suite's traffic carries the test factors, API keys, the test password and card numbers
(in rejected updates); none of them may reach a log line, whichever test sent it. The
targeted test in ``tests/hardening/test_log_redaction.py`` proves the mechanism; this
catches the line some later change adds without redaction.
"""
from __future__ import annotations

import logging
import re

# Values the fixtures send; shaped so that a masked line ("[redacted]") cannot match.
_FORBIDDEN = [
    ("API key", re.compile(r"oss_[0-9a-f]{16}_[A-Za-z0-9_\-]{8}")),
    ("test password", re.compile(re.escape("correct horse battery"))),
    ("email address", re.compile(r"[\w.+-]+@[\w-]+\.(?:com|org|net|example|test)\b", re.I)),
    ("phone number", re.compile(r"555[ .-]?0199")),
    ("billing ZIP", re.compile(r"(?<![\d.:-])10001(?:-1234)?(?![\d.])")),
    ("session cookie", re.compile(r"(?i)\bsession=[A-Za-z0-9_.\-]{20,}")),
    # A status or reset link's whole token (shown masked as "/o/[token]").
    ("link token", re.compile(r"(?:/s/[^/\s\"'?#]+/o/|/reset/)[A-Za-z0-9_.~%-]{16,}")),
]
_DIGIT_RUN = re.compile(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)")


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def findings(line: str) -> list[str]:
    """Return what kind of secret *line* shows, if any."""
    found = [name for name, pattern in _FORBIDDEN if pattern.search(line)]
    for match in _DIGIT_RUN.finditer(line):
        if _luhn(re.sub(r"\D", "", match.group(0))):
            found.append("card-like digit run")
    return found


class SuiteLog(logging.Handler):
    """Keep every formatted line that carries a secret (the rest is not kept)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines = 0
        self.leaks: list[tuple[str, str, list[str]]] = []
        self.test = ""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # noqa: BLE001 - a broken record must not break the suite
            return
        self.lines += 1
        found = findings(line)
        if found:
            self.leaks.append((self.test, line[:300], found))
