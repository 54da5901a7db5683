"""The one gate for every address a merchant gives: links, logos, emails and colours.

A store's settings end up in other people's browsers: in ``href`` and ``src`` attributes
of its shopper pages and emails, and (the logo's host) in the page's
Content-Security-Policy header. So a value is accepted only when it is plainly a web
address, and it is stored and served as re-built here, never as typed:

* ``https`` only; ``http`` only for ``localhost``/loopback while developing or testing;
* no user name or password, no spaces, quotes, semicolons, backslashes, angle brackets or
  control/format characters anywhere (they are how a value breaks out of an attribute or
  a header, or hides from a reviewer);
* the host lower-cased and, when not ASCII, turned into its punycode form (IDNA), so
  ``https://bücher.example/`` is served as ``https://xn--bcher-kva.example/``;
* the path, query and fragment percent-encoded where they are not ASCII.

Write paths call the ``parse_*`` functions, which raise :class:`UnsafeValue` with a
sentence for the field. Read paths call the ``safe_*`` functions, which answer ``None``
for a stored value that no longer passes (a row saved before these rules): the page then
shows no logo or link, and the header is unaffected.
"""
from __future__ import annotations

import ipaddress
import re
import unicodedata
from functools import lru_cache
from urllib.parse import quote, urlsplit

import idna
from flask import current_app, has_app_context

MAX_URL_LENGTH = 500
MAX_EMAIL_LENGTH = 254
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})

_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
# Characters that end an attribute, a header directive or a CSS value, or that browsers
# treat specially inside a URL; a real address never needs them unencoded.
_FORBIDDEN = frozenset("\"'`<>\\;{}|^")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
# RFC 3986 characters kept as they are in a path; the rest is percent-encoded.
_PATH_SAFE = "/%:@!$&()*+,=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"
# Local part of a support address: plain characters only, none that a mailto: URL or a
# mail header would read as syntax (?, &, %, #, quotes, comma, angle brackets).
_LOCAL_PART = re.compile(r"[A-Za-z0-9._+=-]{1,64}")

NOT_HTTPS = "Use an https:// address (http:// only for localhost while developing)."
BAD_CHARACTERS = ("Addresses cannot contain spaces, quotes, semicolons, backslashes, angle "
                  "brackets or control characters.")
USERINFO = "Give the address without a user name or password."
BAD_HOST = "The address's host name or port is not valid."
BAD_EMAIL = "Enter one email address, e.g. help@shop.example."
BAD_COLOUR = "Colours are #rrggbb."


class UnsafeValue(ValueError):
    """A merchant's address or colour that cannot be stored; the message is for the field."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def local_http_allowed() -> bool:
    """Tell whether http://localhost addresses are accepted: not when in production."""
    return has_app_context() and current_app.config.get("OSS_ENV") != "production"


def _check_characters(text: str) -> None:
    for ch in text:
        if ch in _FORBIDDEN or ch.isspace() or unicodedata.category(ch)[0] in "CZ":
            raise UnsafeValue(BAD_CHARACTERS)
    if _BAD_ESCAPE.search(text):
        raise UnsafeValue(BAD_CHARACTERS)


def _host(raw: str) -> str:
    """Return the host lower-cased and in ASCII (punycode), or raise."""
    if raw.startswith("["):  # an IPv6 literal
        try:
            return f"[{ipaddress.IPv6Address(raw[1:-1]).compressed}]"
        except ValueError:
            raise UnsafeValue(BAD_HOST) from None
    host = raw.lower()
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError, ValueError):
            raise UnsafeValue(BAD_HOST) from None
    labels = host.split(".")
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise UnsafeValue(BAD_HOST)
    if len(labels) < 2 and host != "localhost":
        raise UnsafeValue(BAD_HOST)
    return host


def _origin(scheme: str, netloc: str, http: str) -> str:
    """Return ``scheme://host[:port]`` re-built from a URL's parts, or raise.

    *http* says where plain http is accepted: ``"never"``, ``"local"`` or ``"any"``.
    """
    if scheme not in ("https", "http"):
        raise UnsafeValue(NOT_HTTPS)
    if "@" in netloc:
        raise UnsafeValue(USERINFO)
    match = re.fullmatch(r"(\[[^\]]*\]|[^:]*)(?::(\d{1,5}))?", netloc)
    if not match or not match.group(1):
        raise UnsafeValue(BAD_HOST)
    host_part, port = match.group(1), match.group(2)
    host = _host(host_part)
    if port is not None and not 0 < int(port) < 65536:
        raise UnsafeValue(BAD_HOST)
    if scheme == "http" and not (http == "any" or (http == "local" and host in LOCAL_HOSTS)):
        raise UnsafeValue(NOT_HTTPS)
    default = "443" if scheme == "https" else "80"
    port = str(int(port)) if port is not None else None
    return f"{scheme}://{host}" + (f":{port}" if port and port != default else "")


def parse_web_url(value, *, allow_local_http: bool | None = None) -> str | None:
    """Return *value* as a safe, re-serialised https URL (None when empty), or raise."""
    text = (str(value) if value is not None else "").strip()
    if not text:
        return None
    if allow_local_http is None:
        allow_local_http = local_http_allowed()
    return _web_url(text, allow_local_http)


def _web_url(text: str, allow_local_http: bool) -> str:
    if len(text) > MAX_URL_LENGTH:
        raise UnsafeValue(f"At most {MAX_URL_LENGTH} characters.")
    _check_characters(text)
    if not re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", text):
        raise UnsafeValue(NOT_HTTPS)
    parts = urlsplit(text)
    origin = _origin(parts.scheme.lower(), parts.netloc,
                     "local" if allow_local_http else "never")
    url = origin + (quote(parts.path, safe=_PATH_SAFE) or "/")
    if parts.query:
        url += "?" + quote(parts.query, safe=_QUERY_SAFE)
    if parts.fragment:
        url += "#" + quote(parts.fragment, safe=_QUERY_SAFE)
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeValue(f"At most {MAX_URL_LENGTH} characters.")
    return url


def parse_email(value) -> str | None:
    """Return *value* as one plain email address (domain in punycode), or raise."""
    text = (str(value) if value is not None else "").strip()
    if not text:
        return None
    if len(text) > MAX_EMAIL_LENGTH:
        raise UnsafeValue(f"At most {MAX_EMAIL_LENGTH} characters.")
    local, at, domain = text.rpartition("@")
    if not at or not _LOCAL_PART.fullmatch(local):
        raise UnsafeValue(BAD_EMAIL)
    try:
        _check_characters(domain)
        domain = _host(domain)
    except UnsafeValue:
        raise UnsafeValue(BAD_EMAIL) from None
    if domain == "localhost":
        raise UnsafeValue(BAD_EMAIL)
    return f"{local}@{domain}"


def parse_support_link(value, *, allow_local_http: bool | None = None) -> str | None:
    """Return a support page as a safe https URL, or an email as ``mailto:``; else raise."""
    text = (str(value) if value is not None else "").strip()
    if text.lower().startswith("mailto:") or ("@" in text and "://" not in text):
        address = parse_email(text[len("mailto:"):] if text.lower().startswith("mailto:")
                              else text)
        if address is None:
            raise UnsafeValue(BAD_EMAIL)
        return "mailto:" + address
    return parse_web_url(text, allow_local_http=allow_local_http)


def parse_colour(value) -> str | None:
    """Return a ``#rrggbb`` colour, None when empty, or raise."""
    text = (str(value) if value is not None else "").strip()
    if not text:
        return None
    if not _COLOUR.fullmatch(text):
        raise UnsafeValue(BAD_COLOUR)
    return text


# Read side: stored values checked again, answers cached (a page reads the same few).

@lru_cache(maxsize=4096)
def _safe(kind: str, value: str, allow_local_http: bool) -> str | None:
    try:
        if kind == "url":
            return parse_web_url(value, allow_local_http=allow_local_http)
        if kind == "support":
            return parse_support_link(value, allow_local_http=allow_local_http)
        address = parse_email(value)
        return "mailto:" + address if address else None
    except (UnsafeValue, TypeError):
        return None


def safe_url(value: str | None) -> str | None:
    """Return a stored URL fit for ``href``/``src``, or None when it does not pass now."""
    return _safe("url", value, local_http_allowed()) if value else None


def support_href(value: str | None) -> str | None:
    """Return a stored support link (web page or email) fit for ``href``, or None."""
    return _safe("support", value, local_http_allowed()) if value else None


def mailto_href(value: str | None) -> str | None:
    """Return ``mailto:<address>`` for a stored support email, or None when it does not pass."""
    return _safe("email", value, False) if value else None


def tel_href(value: str | None) -> str | None:
    """Return ``tel:`` with a stored phone number's digits (and a leading +), or None."""
    text = value or ""
    digits = re.sub(r"\D", "", text)
    if not 3 <= len(digits) <= 20:
        return None
    return "tel:" + ("+" if text.strip().startswith("+") else "") + digits


def safe_colour(value: str | None) -> str | None:
    """Return a stored colour when it is ``#rrggbb``, else None."""
    return value if value and _COLOUR.fullmatch(value) else None


def host_source(url: str | None) -> str | None:
    """Return a CSP host source (``https://host[:port]``) for a stored URL, or None."""
    safe = safe_url(url)
    if safe is None:
        return None
    parts = urlsplit(safe)
    return f"{parts.scheme}://{parts.netloc}"


@lru_cache(maxsize=1024)
def origin_source(origin: str | None) -> str | None:
    """Return a stored embedding origin fit for a CSP source list, or None."""
    if not origin:
        return None
    try:
        _check_characters(origin)
        parts = urlsplit(origin)
        if parts.path or parts.query or parts.fragment or not parts.netloc:
            return None
        # Embedding sites are origins, not links: an http one is the merchant's choice
        # (a till on the shop floor) and only lets that site frame the page.
        return _origin(parts.scheme.lower(), parts.netloc, "any")
    except (UnsafeValue, ValueError):
        return None


_STORED_CHECKS = {"logo_url": parse_web_url, "support_url": parse_support_link,
                  "support_email": parse_email, "accent_color": parse_colour}
# The store settings these rules govern (checked again when a store's settings are shown).
CHECKED_SETTINGS = tuple(_STORED_CHECKS)


def stored_problems(settings: dict) -> dict[str, str]:
    """Return {setting: message} for stored addresses and colours that no longer pass."""
    problems = {}
    for name, parse in _STORED_CHECKS.items():
        value = settings.get(name)
        try:
            parse(value)
        except UnsafeValue as exc:
            problems[name] = exc.message
    return problems
