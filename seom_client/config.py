"""The client configuration: destination, key, queue location, labels and event table."""

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .errors import ConfigError, EventError
from .events import EventRule, load_defaults, rule_from_dict, validate_label

DEFAULT_CONFIG_NAME = "seom-client.json"
CONFIG_ENV = "SEOM_CLIENT_CONFIG"
UPDATES_PATH = "/api/v1/updates"
MAX_BATCH = 500

# Tunables and their defaults; all may be set in the config file.
TUNABLES = {
    "timeout_s": 30.0,          # per request (connect and read)
    "batch_max_updates": MAX_BATCH,
    "backoff_base_s": 0.5,      # first retry waits up to this long
    "backoff_cap_s": 300.0,     # no retry waits longer (unless Retry-After says so)
    "pause_recheck_s": 60.0,    # how often a paused queue re-tries the receiver
    "heartbeat_s": 5.0,         # how often a running controller says it is alive
    "idle_poll_s": 0.5,         # how often an idle controller looks for new updates
}


def default_config_path():
    """Return the config path from $SEOM_CLIENT_CONFIG or ./seom-client.json."""
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG_NAME)


def endpoint_url(url, generic_cart=False):
    """Return the URL updates are posted to.

    The configured URL is the receiver's base and ``/api/v1/updates`` is
    appended, except that a generic cart's URL that already has a path (other
    than ``/``) is used as given, and a URL already ending in
    ``/api/v1/updates`` is never extended.
    """
    parts = urlsplit(url)
    path = parts.path
    if path.rstrip("/").endswith(UPDATES_PATH):
        return url
    if generic_cart and path not in ("", "/"):
        return url
    return url.rstrip("/") + UPDATES_PATH


def _check_url(url):
    """Raise ConfigError unless url is an http(s) URL with a host."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"the URL must start with http:// or https:// and name a host, got {url!r}")


@dataclass
class Config:
    """Everything a Client needs; load() and save() read and write the JSON file."""

    url: str
    api_key: str
    signing_secret: str | None = None
    generic_cart: bool = False
    queue_path: str | None = None
    use_status_updates: bool = True
    labels: list = field(default_factory=list)
    events: dict = field(default_factory=dict)
    settings: dict = field(default_factory=lambda: dict(TUNABLES))
    path: Path | None = None  # where the file lives; not stored in it

    @classmethod
    def new(cls, url, api_key, *, signing_secret=None, generic_cart=False, path=None):
        """Return a config with the default labels and event table."""
        _check_url(url)
        if not api_key:
            raise ConfigError("an API key is required")
        labels, events = load_defaults()
        return cls(url=url, api_key=api_key, signing_secret=signing_secret or None,
                   generic_cart=generic_cart, labels=labels, events=events,
                   path=Path(path) if path else None)

    @classmethod
    def load(cls, path=None):
        """Read a config file; raise ConfigError when it is missing or invalid."""
        path = Path(path) if path else default_config_path()
        try:
            data = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"no config file at {path} (run 'seom-client init' first)") from None
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read config {path}: {exc}") from None
        return cls.from_dict(data, path=path)

    @classmethod
    def from_dict(cls, data, path=None):
        """Build a config from its JSON form, validating every field."""
        if not isinstance(data, dict):
            raise ConfigError("the config must be a JSON object")
        known = {"url", "api_key", "signing_secret", "generic_cart", "queue_path",
                 "use_status_updates", "labels", "events", *TUNABLES}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"unknown config keys: {', '.join(sorted(unknown))}")
        _check_url(data.get("url"))
        if not data.get("api_key"):
            raise ConfigError("the config has no api_key")
        try:
            labels = [str(x) for x in data.get("labels", [])]
            for label in labels:
                validate_label(label)
            events = {name: rule_from_dict(name, row) for name, row in data.get("events", {}).items()}
        except (EventError, TypeError, AttributeError) as exc:
            raise ConfigError(f"bad labels or events in config: {exc}") from None
        settings = dict(TUNABLES)
        for key, default in TUNABLES.items():
            if key in data:
                try:
                    settings[key] = type(default)(data[key])
                except (TypeError, ValueError):
                    raise ConfigError(f"{key} must be a number") from None
        if not 1 <= settings["batch_max_updates"] <= MAX_BATCH:
            raise ConfigError(f"batch_max_updates must be 1-{MAX_BATCH}")
        return cls(url=data["url"], api_key=data["api_key"],
                   signing_secret=data.get("signing_secret") or None,
                   generic_cart=bool(data.get("generic_cart", False)),
                   queue_path=data.get("queue_path"),
                   use_status_updates=bool(data.get("use_status_updates", True)),
                   labels=labels, events=events, settings=settings,
                   path=Path(path) if path else None)

    def to_dict(self):
        """Return the JSON form written to the config file."""
        data = {"url": self.url, "api_key": self.api_key,
                "signing_secret": self.signing_secret, "generic_cart": self.generic_cart,
                "queue_path": self.queue_path, "use_status_updates": self.use_status_updates}
        data.update(self.settings)
        data["labels"] = list(self.labels)
        data["events"] = {name: rule.to_dict() for name, rule in self.events.items()}
        return data

    def save(self, path=None):
        """Write the config atomically (temp file, fsync, rename) with owner-only access."""
        path = Path(path or self.path or default_config_path())
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".seom-client-", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(self.to_dict(), fh, indent=2)
                fh.write("\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o600)  # the file holds the API key and signing secret
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        self.path = path
        return path

    @property
    def endpoint(self):
        """Return the URL updates are posted to."""
        return endpoint_url(self.url, self.generic_cart)

    def resolved_queue_path(self):
        """Return the queue file: queue_path (relative to the config) or beside the config."""
        base = (self.path.parent if self.path else Path.cwd())
        if self.queue_path:
            return (base / os.path.expanduser(self.queue_path)).resolve()
        stem = self.path.stem if self.path else "seom-client"
        return (base / f"{stem}.stack.sqlite").resolve()

    def setting(self, name):
        """Return a tunable's value."""
        return self.settings[name]

    def rule(self, event):
        """Return the event's table row (an empty rule if the table lacks it)."""
        return self.events.get(event, EventRule())
