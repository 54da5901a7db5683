"""Development: the outbox sender as a thread beside ``oss-server run``.

In production the sender is its own process (``oss-server send-notifications --watch``).
On a developer's machine nobody thinks of starting it, and a password-reset email that
never arrives looks like a bug: the development server sends what is queued itself.
"""
from __future__ import annotations

import threading

from ..extensions import db
from .sender import SenderSettings, watch
from .transport import FileTransport, transport_from_config

INTERVAL_S = 1.0


def start(app, echo, interval: float = INTERVAL_S) -> threading.Thread:
    """Start a daemon thread that sends due emails every *interval* seconds; return it."""
    transport = transport_from_config(app.config, app.instance_path)
    settings = SenderSettings.from_config(app.config)
    echo(where_emails_go(app))

    def report(result) -> None:
        if result.sent or result.failed:
            echo(_said(result, transport))

    def run():
        with app.app_context():
            watch(db.session, transport, settings, interval, should_stop=lambda: False,
                  report=report)

    thread = threading.Thread(target=run, name="oss-dev-sender", daemon=True)
    thread.start()
    return thread


def where_emails_go(app) -> str:
    """Say where this server's emails end up, for the console."""
    transport = transport_from_config(app.config, app.instance_path)
    if isinstance(transport, FileTransport):
        return (f"Emails (password resets, shopper notices) are written as .eml files to "
                f"{transport.folder}/ (set OSS_SMTP_URL to send them).")
    return f"Emails are sent through {transport.describe()} by a thread of this server."


def _said(result, transport) -> str:
    where = (f" to {transport.folder}/" if isinstance(transport, FileTransport)
             else f" via {transport.describe()}")
    failed = f", {result.failed} failed" if result.failed else ""
    return f"Emailed {result.sent}{where}{failed}."
