"""`seom-client check`: try the URL and key with a harmless request and say what is wrong."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from ..config import UPDATES_PATH, Config
from ..sender import describe_network_error, error_text, headers_for
from .common import EXIT_FAIL, EXIT_OK, err, load, out

STORE_PATH = "/api/v1/store"


def store_url(config: Config) -> str:
    """Return the URL of GET /api/v1/store beside the configured receiver."""
    endpoint = config.endpoint
    if endpoint.rstrip("/").endswith(UPDATES_PATH):
        return endpoint.rstrip("/")[: -len(UPDATES_PATH)] + STORE_PATH
    parts = urlsplit(endpoint)  # a generic cart's own path: ask at its site's root
    return urlunsplit((parts.scheme, parts.netloc, STORE_PATH, "", ""))


def probe(config: Config, session: requests.Session | None = None) -> dict[str, Any]:
    """Ask the receiver who the key belongs to; return {'ok', 'problem', 'message', 'detail'}."""
    url = store_url(config)
    session = session or requests.Session()
    headers = {k: v for k, v in headers_for(config, b"").items() if k != "Content-Type"}
    headers.pop("OSS-Signature", None)
    result: dict[str, Any] = {"ok": False, "problem": None, "url": url, "status": None,
                              "message": "", "detail": None}
    try:
        response = session.get(url, headers=headers, timeout=min(config.setting("timeout_s"), 15),
                               allow_redirects=False)
    except requests.RequestException as exc:
        result.update(problem="tls" if isinstance(exc, requests.exceptions.SSLError)
                      else "unreachable", message=describe_network_error(exc, url),
                      detail=f"{type(exc).__name__}: {exc}")
        return result
    status = response.status_code
    result["status"] = status
    result["detail"] = error_text(response)
    host = urlsplit(url).netloc
    if status == 200:
        try:
            store = response.json()
            name, sub = store["name"], store.get("subscription") or {}
        except (ValueError, KeyError, TypeError):
            result.update(problem="wrong_path",
                          message=f"{host} answers {STORE_PATH}, but not as an OSS does "
                                  "(check the URL is the service's base address)")
            return result
        state = sub.get("state", "unknown")
        paid = f", paid through {sub['paid_through']}" if sub.get("paid_through") else ""
        result.update(ok=True, store=store,
                      message=f"the key works for store {name!r} ({store.get('slug')}); "
                              f"subscription {state}{paid}")
        if state == "grace":
            result["message"] += " — renew it soon, updates stop when it lapses"
        elif state == "lapsed":
            result.update(ok=False, problem="subscription",
                          message=f"the key is right but the subscription of store {name!r} "
                                  f"has lapsed{paid}: renew it in the merchant portal")
    elif status == 401:
        result.update(problem="key", message="the receiver refused the API key (401): set the "
                      "right one with 'seom-client config set api_key KEY'")
    elif status == 402:
        result.update(problem="subscription", message="the key is right but the store's "
                      "subscription has lapsed (402): renew it in the merchant portal")
    elif status == 403:
        result.update(problem="key", message="the receiver refused this key access (403)")
    elif status == 404 and config.generic_cart:
        result.update(ok=True, problem="unverified",
                      message=f"{host} answers, but the key could not be verified "
                              f"(no {STORE_PATH} there, which a generic cart may lack)")
    elif status == 404:
        result.update(problem="wrong_path", message=f"{url} was not found (404): the URL "
                      "should be the OSS's base address, e.g. https://status.example.com")
    elif 300 <= status < 400:
        where = response.headers.get("Location", "elsewhere")
        result.update(problem="wrong_path", message=f"{url} redirects to {where}: "
                      "set that address with 'seom-client config set url URL'")
    else:
        result.update(problem="server", message=f"the receiver answered HTTP {status}: "
                      "it may be down or busy; try again later")
    return result


def cmd_check(args: Any) -> int:
    """Try the URL and key; print what works or what is wrong; exit 1 on a problem."""
    result = probe(load(args))
    if args.json:
        out(json.dumps(result))
    elif result["ok"]:
        out(f"ok: {result['message']}")
    else:
        err(f"problem: {result['message']}")
    return EXIT_OK if result["ok"] else EXIT_FAIL


def add_parsers(sub: Any) -> None:
    """Add the check command."""
    p = sub.add_parser("check", help="try the URL and key with a harmless request")
    p.add_argument("--json", action="store_true", help="print the outcome, raw detail included")
    p.set_defaults(func=cmd_check)
