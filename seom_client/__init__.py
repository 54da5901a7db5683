"""seom_client: send order status updates from an order manager to the OSS, durably.

    >>> from seom_client import Client
    >>> client = Client("seom-client.json")
    >>> client.fire("Order Approve", order)
    >>> client.start()          # or run `seom-client run` as its own process
"""

from ._version import __version__
from .client import Client, FireResult
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

__all__ = [
    "Client", "Config", "FireResult", "EventRule", "STANDARD_EVENTS", "check_table",
    "SeomClientError", "ConfigError", "EventError", "UpdateError", "QueueError",
    "ControllerLockedError", "__version__",
]
