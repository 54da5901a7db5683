"""Run the sender from the command line: one pass, or ``--watch`` until stopped."""
from __future__ import annotations

import logging
import signal

from .sender import PassResult, SenderSettings, send_pending
from .sender import watch as watch_outbox
from .transport import FileTransport, transport_from_config

log = logging.getLogger(__name__)


def _summary(result: PassResult) -> str:
    return f"Sent {result.sent}, retrying {result.retrying}, failed {result.failed}."


def run(app, session, *, watch: bool, interval: float, echo) -> None:
    """Send due emails with the app's settings; with *watch*, until SIGTERM or Ctrl-C."""
    transport = transport_from_config(app.config, app.instance_path)
    settings = SenderSettings.from_config(app.config)
    if isinstance(transport, FileTransport):
        echo(f"OSS_SMTP_URL is not set: writing emails as .eml files to {transport.folder}")
    if not watch:
        echo(_summary(send_pending(session, transport, settings)))
        return
    stopping = []

    def stop(_signum, _frame):
        # Finish the email in hand, then leave: its row is marked before we exit.
        stopping.append(True)

    previous = signal.signal(signal.SIGTERM, stop)
    echo(f"Watching the outbox every {interval:g}s ({transport.describe()}); Ctrl-C stops.")
    try:
        watch_outbox(session, transport, settings, interval, should_stop=lambda: bool(stopping),
                     report=lambda result: echo(_summary(result)))
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    echo("Stopped.")
