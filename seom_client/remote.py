"""A workstation's link to the site's bridge (``seom-client serve`` on another machine).

A workstation made with ``seom-client init --bridge URL --token TOKEN`` keeps no queue of
its own: fire, enqueue and status go to the bridge. When the bridge cannot be reached the
call fails loudly (BridgeUnavailableError): the order manager must know, and nothing is
queued anywhere else.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

import requests

from .errors import EventError, SeomClientError, UpdateError


class BridgeUnavailableError(SeomClientError):
    """The site's bridge could not be reached or did not answer as a bridge does."""


class RemoteSite:
    """Fire, enqueue and read status through the site's bridge."""

    def __init__(self, url: str, token: str | None, *, timeout_s: float = 30.0,
                 session: requests.Session | None = None):
        self.url = url.rstrip("/")
        self.token = token
        self.timeout_s = timeout_s
        self._session = session or requests.Session()

    def fire(self, event: str, order: dict[str, Any], items: list[str] | None = None, *,
             label: str | None = None, notify_customer: bool | None = None) -> dict[str, Any]:
        """Fire an event at the bridge; return its answer (queued, update_id, changes)."""
        body: dict[str, Any] = {"event": event, "order": order}
        if items is not None:
            body["items"] = list(items)
        if label is not None:
            body["label"] = label
        if notify_customer is not None:
            body["notify_customer"] = notify_customer
        return self._call("POST", "/v1/fire", body)

    def enqueue(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue a full UPDATE (or ``{"order": …}``) at the bridge; return its update_id."""
        return self._call("POST", "/v1/enqueue", update)

    def status(self) -> dict[str, Any]:
        """Return the site's queue status (the keys of ``status --json``)."""
        return self._call("GET", "/v1/status")

    def remembered(self, order_number: str) -> dict[str, Any] | None:
        """Return what the site's memory holds for an order, or None."""
        try:
            return self._call("GET", "/v1/orders/" + quote(order_number, safe=""))
        except _NotFound:
            return None

    def close(self) -> None:
        """Close the HTTP session."""
        self._session.close()

    def _call(self, method: str, path: str,
              body: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            response = self._session.request(method, self.url + path, json=body,
                                             headers=headers, timeout=self.timeout_s)
        except requests.RequestException as exc:
            raise BridgeUnavailableError(
                f"the site's bridge at {self.url} cannot be reached ({type(exc).__name__})"
            ) from exc
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if response.status_code == 200 and isinstance(payload, dict):
            return payload
        error = (payload or {}).get("error") if isinstance(payload, dict) else None
        message = error.get("message") if isinstance(error, dict) else None
        code = error.get("code") if isinstance(error, dict) else None
        if response.status_code == 404 and code == "not_found":
            raise _NotFound(message or "not found")
        if response.status_code == 400 and code == "unknown_event":
            raise EventError(message or "unknown event")
        if response.status_code == 400:
            raise UpdateError(message or "the bridge refused the update")
        if response.status_code == 401:
            raise BridgeUnavailableError("the bridge refused the token (check bridge_token)")
        detail = f": {message}" if message else ""
        raise BridgeUnavailableError(f"the bridge answered HTTP {response.status_code}{detail}")


class _NotFound(SeomClientError):
    """The bridge holds no such thing."""
