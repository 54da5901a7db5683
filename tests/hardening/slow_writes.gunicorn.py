"""Test-only gunicorn config: the project's settings, plus writes that go slowly.

The first worker pauses before each INSERT and leaves a marker file once it is inside a
batch's transaction, so a test can SIGKILL it at that exact moment.
"""
import os
import time
from pathlib import Path

exec(compile((Path(__file__).resolve().parents[2] / "gunicorn.conf.py").read_text(),
             "gunicorn.conf.py", "exec"))


def post_worker_init(worker):
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    marker = Path(os.environ["OSS_TEST_KILL_MARKER"])
    if marker.exists():
        return  # the replacement worker runs at full speed

    @event.listens_for(Engine, "before_cursor_execute")
    def slow_insert(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO ORDERS"):
            marker.write_text(str(os.getpid()))
            time.sleep(0.5)
