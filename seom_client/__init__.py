"""seom_client: send order status updates from an order manager to the OSS, durably.

    >>> from seom_client import Client
    >>> client = Client("seom-client.json")
    >>> client.fire("Order Approve", order)
    >>> client.start()          # or run `seom-client run` as its own process
"""

__version__ = "0.1.0"

from .client import Client, FireResult  # noqa: E402
from .config import Config  # noqa: E402
from .errors import (  # noqa: E402
    ConfigError, ControllerLockedError, EventError, QueueError, SeomClientError,
    UpdateError,
)
from .events import STANDARD_EVENTS, EventRule, check_table  # noqa: E402

__all__ = [
    "Client", "Config", "FireResult", "EventRule", "STANDARD_EVENTS", "check_table",
    "SeomClientError", "ConfigError", "EventError", "UpdateError", "QueueError",
    "ControllerLockedError", "__version__",
]
