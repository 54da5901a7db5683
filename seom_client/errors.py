"""Exceptions raised by seom_client; all derive from SeomClientError."""


class SeomClientError(Exception):
    """Root of every error this library raises on purpose."""


class ConfigError(SeomClientError):
    """The configuration file is missing, unreadable or invalid."""


class EventError(SeomClientError):
    """An unknown event, an unknown label or a bad event-table entry."""


class UpdateError(SeomClientError):
    """An update or order snapshot cannot be queued as given."""


class QueueError(SeomClientError):
    """The local stack (SQLite file) could not be used."""


class ControllerLockedError(QueueError):
    """Another stack controller already drains this queue."""
