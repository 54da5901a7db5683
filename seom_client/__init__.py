"""seom_client: send order status updates from an order manager to the OSS, durably.

    >>> from seom_client import Client
    >>> client = Client("seom-client.json")
    >>> client.fire("Order Approve", order)
    >>> client.start()          # or run `seom-client run` as its own process
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__
from .config import Config
from .errors import (
    ConfigError,
    ControllerLockedError,
    EventError,
    QueueError,
    SeomClientError,
    UpdateError,
)
from .events import STANDARD_EVENTS, EventRule, check_table

if TYPE_CHECKING:
    from .client import Client, FireResult

__all__ = [
    "Client", "Config", "FireResult", "EventRule", "STANDARD_EVENTS", "check_table",
    "SeomClientError", "ConfigError", "EventError", "UpdateError", "QueueError",
    "ControllerLockedError", "__version__",
]

# The client and its HTTP stack (requests, urllib3) load on first use: the OSS server
# imports this package only for the shared card screening (seom_client.screening), and
# each of its workers would otherwise carry an HTTP client it never uses.
_LAZY = {"Client": "client", "FireResult": "client"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
