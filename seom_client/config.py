"""The client configuration: destination, key, queue location, labels and event table."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
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
    "memory_days": 180,         # orders no event touched for this long are forgotten
}
SECRET_KEYS = ("api_key", "signing_secret", "bridge_token")  # masked by `config show`
BOOL_WORDS = {"true": True, "on": True, "yes": True, "1": True,
              "false": False, "off": False, "no": False, "0": False}


def mask(secret: str) -> str:
    """Return a secret as people may see it: an OSS key keeps its key id, the rest is hidden."""
    parts = secret.split("_")
    if len(parts) >= 3 and parts[0] == "oss":
        return f"oss_{parts[1]}_…(hidden)"
    return f"…(hidden, {len(secret)} characters)"


def user_config_dir() -> Path:
    """Return this platform's per-user folder for the client's config and queue.

    %APPDATA%\\seom-client on Windows, ~/Library/Application Support/seom-client on
    macOS, $XDG_CONFIG_HOME/seom-client (default ~/.config/seom-client) elsewhere.
    """
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or home / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    return base / "seom-client"


def default_config_path() -> Path:
    """Return $SEOM_CLIENT_CONFIG, else ./seom-client.json if it exists, else the per-user file."""
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    local = Path(DEFAULT_CONFIG_NAME)
    return local if local.exists() else user_config_dir() / DEFAULT_CONFIG_NAME


def endpoint_url(url: str, generic_cart: bool = False) -> str:
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


def _check_url(url: str | None) -> None:
    """Raise ConfigError unless url is an http(s) URL with a host."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            f"the URL must start with http:// or https:// and name a host, got {url!r}")


@dataclass
class Config:
    """Everything a Client needs; load() and save() read and write the JSON file."""

    url: str
    api_key: str
    signing_secret: str | None = None
    generic_cart: bool = False
    queue_path: str | None = None
    use_status_updates: bool = True
    bridge_token: str | None = None
    bridge_url: str | None = None  # a workstation's config: the site's bridge, no queue here
    labels: list[str] = field(default_factory=list)
    events: dict[str, EventRule] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=lambda: dict(TUNABLES))
    path: Path | None = None  # where the file lives; not stored in it

    @classmethod
    def new(cls, url: str, api_key: str, *, signing_secret: str | None = None,
            generic_cart: bool = False, path: str | os.PathLike[str] | None = None) -> Config:
        """Return a config with the default labels and event table."""
        _check_url(url)
        if not api_key:
            raise ConfigError("an API key is required")
        labels, events = load_defaults()
        return cls(url=url, api_key=api_key, signing_secret=signing_secret or None,
                   generic_cart=generic_cart, labels=labels, events=events,
                   path=Path(path) if path else None)

    @classmethod
    def new_workstation(cls, bridge_url: str, token: str | None, *,
                        path: str | os.PathLike[str] | None = None) -> Config:
        """Return a workstation's config: fire, enqueue and status go to the site's bridge."""
        _check_url(bridge_url)
        return cls(url="", api_key="", bridge_url=bridge_url, bridge_token=token or None,
                   path=Path(path) if path else None)

    @property
    def workstation(self) -> bool:
        """Return True for a workstation's config (made with init --bridge): it keeps no queue."""
        return bool(self.bridge_url)

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> Config:
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
    def from_dict(cls, data: Any, path: str | os.PathLike[str] | None = None) -> Config:
        """Build a config from its JSON form, validating every field."""
        if not isinstance(data, dict):
            raise ConfigError("the config must be a JSON object")
        known = {"url", "api_key", "signing_secret", "generic_cart", "queue_path",
                 "use_status_updates", "bridge_token", "bridge_url", "labels", "events",
                 *TUNABLES}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"unknown config keys: {', '.join(sorted(unknown))}")
        if data.get("bridge_url"):
            return cls._workstation_from_dict(data, path)
        _check_url(data.get("url"))
        if not data.get("api_key"):
            raise ConfigError("the config has no api_key")
        try:
            labels = [str(x) for x in data.get("labels", [])]
            for label in labels:
                validate_label(label)
            events = {name: rule_from_dict(name, row)
                      for name, row in data.get("events", {}).items()}
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
        if settings["memory_days"] < 1:
            raise ConfigError("memory_days must be at least 1")
        return cls(url=data["url"], api_key=data["api_key"],
                   signing_secret=data.get("signing_secret") or None,
                   generic_cart=bool(data.get("generic_cart", False)),
                   queue_path=data.get("queue_path"),
                   use_status_updates=bool(data.get("use_status_updates", True)),
                   bridge_token=data.get("bridge_token") or None,
                   labels=labels, events=events, settings=settings,
                   path=Path(path) if path else None)

    @classmethod
    def _workstation_from_dict(cls, data: dict[str, Any],
                               path: str | os.PathLike[str] | None) -> Config:
        """Build a workstation's config: the bridge's URL and token, nothing of the site's."""
        own = sorted(k for k in ("url", "api_key", "signing_secret", "queue_path", "labels",
                                 "events") if data.get(k))
        if own:
            raise ConfigError(f"a workstation's config (bridge_url) has no {', '.join(own)}: "
                              "the machine that runs 'seom-client serve' keeps them")
        config = cls.new_workstation(data["bridge_url"], data.get("bridge_token"), path=path)
        try:
            config.settings["timeout_s"] = float(data.get("timeout_s", TUNABLES["timeout_s"]))
        except (TypeError, ValueError):
            raise ConfigError("timeout_s must be a number") from None
        return config

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form written to the config file."""
        if self.workstation:
            return {"bridge_url": self.bridge_url, "bridge_token": self.bridge_token,
                    "timeout_s": self.settings["timeout_s"]}
        data: dict[str, Any] = {"url": self.url, "api_key": self.api_key,
                "signing_secret": self.signing_secret, "generic_cart": self.generic_cart,
                "queue_path": self.queue_path, "use_status_updates": self.use_status_updates,
                "bridge_token": self.bridge_token}
        data.update(self.settings)
        data["labels"] = list(self.labels)
        data["events"] = {name: rule.to_dict() for name, rule in self.events.items()}
        return data

    def with_value(self, key: str, text: str) -> Config:
        """Return a copy with one setting changed from its command-line text, validated.

        Labels and events are carried over untouched; they have commands of their own.
        """
        if key in ("labels", "events"):
            raise ConfigError(f"change {key} with 'seom-client {key} ...'")
        data = self.to_dict()
        if key not in data:
            raise ConfigError(f"unknown setting {key!r} (see 'seom-client config show')")
        current = data[key]
        if key in ("generic_cart", "use_status_updates"):
            word = text.strip().lower()
            if word not in BOOL_WORDS:
                raise ConfigError(f"{key} must be on or off, got {text!r}")
            data[key] = BOOL_WORDS[word]
        elif isinstance(current, (int, float)) and not isinstance(current, bool):
            try:
                data[key] = type(current)(text)
            except ValueError:
                raise ConfigError(f"{key} must be a number, got {text!r}") from None
        else:
            data[key] = text or None  # an empty value clears an optional setting
        changed = Config.from_dict(data, path=self.path)
        if key in TUNABLES and changed.settings[key] <= 0:
            raise ConfigError(f"{key} must be greater than 0")
        return changed

    def shown(self) -> dict[str, Any]:
        """Return the settings for people to read, secrets masked, labels and events counted."""
        data = self.to_dict()
        for key in SECRET_KEYS:
            if data.get(key):
                data[key] = mask(data[key])
        data["labels"] = f"{len(self.labels)} labels"
        data["events"] = f"{len(self.events)} events"
        return data

    def save(self, path: str | os.PathLike[str] | None = None) -> Path:
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
    def endpoint(self) -> str:
        """Return the URL updates are posted to."""
        return endpoint_url(self.url, self.generic_cart)

    def resolved_queue_path(self) -> Path:
        """Return the queue file: queue_path (relative to the config) or beside the config."""
        if self.workstation:  # so no code path can create a stack file on a workstation
            raise ConfigError("this workstation keeps no queue: its events go to the site's "
                              f"bridge at {self.bridge_url}")
        base = (self.path.parent if self.path else Path.cwd())
        if self.queue_path:
            return (base / os.path.expanduser(self.queue_path)).resolve()
        stem = self.path.stem if self.path else "seom-client"
        return (base / f"{stem}.stack.sqlite").resolve()

    @property
    def memory_days(self) -> float:
        """Return how many days an order no event touched stays in the client's memory."""
        days: float = self.settings["memory_days"]
        return days

    def setting(self, name: str) -> Any:
        """Return a tunable's value."""
        return self.settings[name]

    def rule(self, event: str) -> EventRule:
        """Return the event's table row (an empty rule if the table lacks it)."""
        rule: EventRule = self.events.get(event, EventRule())
        return rule
