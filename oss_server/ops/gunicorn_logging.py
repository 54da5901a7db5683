"""Gunicorn's logger with JSON lines: ``logger_class`` in ``gunicorn.conf.py``.

Gunicorn's own handlers stay in charge (``--error-logfile``, ``--access-logfile``,
``--log-level`` behave as documented); only their lines are written as the JSON objects
of :mod:`.logjson`, and the app's loggers get the same on stderr. A ``logconfig_dict``
would do the formatting too, but gunicorn takes any logging configuration as a request
for its access log: every request would then be written twice, once by the app (with its
request id and duration) and once by gunicorn.
"""
from __future__ import annotations

import logging
import sys

from gunicorn.glogging import Logger

from .logjson import JsonFormatter


class JsonLogger(Logger):
    """Gunicorn's error and (when asked for) access log, one JSON object per line."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        formatter = JsonFormatter()
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(formatter)
        _app_logs_to_stderr(formatter)
        # Every record would otherwise ask the multiprocessing module for the process's
        # name and threading for the thread's: a third of writing an access line, for
        # fields no line of ours shows. A formatter asking for them gets "MainProcess"
        # and no thread name.
        logging.logMultiprocessing = False
        logging.logThreads = False


class _MarkedHandler(logging.StreamHandler):
    """The app's stderr handler, recognisable after a configuration reload."""

    _oss_json = True


def _app_logs_to_stderr(formatter: logging.Formatter) -> None:
    # The app's records (access lines, warnings) go to the root logger; setup runs again
    # on a configuration reload, so the handler is added once.
    root = logging.getLogger()
    if not any(getattr(handler, "_oss_json", False) for handler in root.handlers):
        handler = _MarkedHandler(sys.stderr)
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(logging.INFO)
