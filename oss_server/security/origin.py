"""Keeping shopper pages (any merchant's content) from acting with a portal session.

Shopper pages (``/s/…``) show what merchants typed; the portal (``/account``) holds their
sessions. On one origin, script on a shopper page would be script of the portal. The
layers, each explained in docs/deploy.md ("Shopper pages and the portal"):

* no script on any page but our own files (``script-src 'self'``), and every merchant
  address through :mod:`.urls`: a store cannot put script on a page to begin with;
* portal writes refused when the browser says another origin sent them
  (Fetch Metadata), so a page elsewhere, a sibling host included, cannot post a form;
* optionally, ``OSS_PORTAL_URL``: the portal on a host of its own, where no shopper
  page is served, so the two are different origins and share no cookie.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, abort, redirect, request

# Methods that change something; GET and HEAD pages of the portal change nothing.
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PORTAL_PREFIX = "/account"
SHOPPER_PREFIXES = ("/s/",)


def refuse_cross_origin_writes():
    """Answer 403 to a portal write that the browser says came from another origin.

    Browsers send ``Sec-Fetch-Site`` with every request; one that does not (an old
    browser, a script) is let through to the CSRF check, which it cannot pass either.
    """
    if request.method in WRITE_METHODS:
        site = request.headers.get("Sec-Fetch-Site")
        if site is not None and site != "same-origin":
            abort(403)


def portal_host(url: str | None) -> str | None:
    """Return the lower-cased ``host[:port]`` of ``OSS_PORTAL_URL``, or None when unset."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
        raise ValueError("OSS_PORTAL_URL is scheme://host[:port], e.g. https://portal.example")
    default = ":443" if parts.scheme == "https" else ":80"
    host = parts.netloc.lower()
    return host[:-len(default)] if host.endswith(default) else host


def portal_base_url(config) -> str:
    """Return the address the portal's emailed links start with (no trailing slash)."""
    return str(config.get("OSS_PORTAL_URL") or config["OSS_BASE_URL"]).strip().rstrip("/")


def init_app(app: Flask) -> None:
    """With ``OSS_PORTAL_URL`` set: the portal only on its host, shopper pages never there."""
    host = portal_host(app.config.get("OSS_PORTAL_URL"))
    if host is None:
        return
    base = app.config["OSS_PORTAL_URL"].strip().rstrip("/")

    def separate_hosts():
        path = request.path
        on_portal = request.host.lower() == host
        if path == PORTAL_PREFIX or path.startswith(PORTAL_PREFIX + "/"):
            if on_portal:
                return None
            # A bookmark or an old link: the same page on the portal's host. A write
            # is not redirected (it would arrive without its session anyway).
            if request.method in ("GET", "HEAD"):
                return redirect(base + request.full_path.rstrip("?"), 308)
            abort(404)
        if on_portal and path.startswith(SHOPPER_PREFIXES):
            abort(404)  # no merchant content on the portal's origin
        return None

    # Before the CSRF check, so a request on the wrong host is sent on, not refused
    # for a token it could not have (the request-id hook, installed next, goes first).
    app.before_request_funcs.setdefault(None, []).insert(0, separate_hosts)
