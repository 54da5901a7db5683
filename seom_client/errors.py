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


class SensitiveDataError(UpdateError):
    """An update holds payment or street-address data; nothing of it was written or sent.

    ``fields`` maps each offending field path to why it was refused; neither the
    paths nor the message ever carry the value itself.
    """

    def __init__(self, fields: dict[str, str]) -> None:
        self.fields = dict(fields)
        super().__init__("refused: payment and street-address data never leave the order "
                         f"manager (fields: {', '.join(sorted(self.fields))})")
