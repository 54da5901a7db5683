"""The Content-Security-Policy of a store's shopper pages."""
from __future__ import annotations

from functools import lru_cache

from ..security.urls import host_source, local_http_allowed, origin_source
from ..storage.shop_pages import ShopStore


def store_csp(store: ShopStore | None) -> str:
    """CSP of a store's pages: no inline code; framing only by the store's own origins.

    Only host sources re-built by :mod:`..security.urls` go in (``scheme://host[:port]``):
    a stored value that would not pass today adds nothing, so no setting can add a
    directive or a source of its own.
    """
    if store is None:
        return _csp(None, (), False)
    return _csp(store.logo_url, tuple(store.allowed_origins or ()), local_http_allowed())


@lru_cache(maxsize=1024)
def _csp(logo_url: str | None, allowed_origins: tuple, _local_http: bool) -> str:
    # Every shopper response sends it; a store's settings give the same header each time
    # (the address rules also depend on whether local http is allowed: part of the key).
    origins = (origin_source(o) for o in allowed_origins)
    frame = " ".join(o for o in origins if o) or "'none'"
    logo = host_source(logo_url)
    images = f"'self' {logo}" if logo else "'self'"
    return (f"default-src 'self'; script-src 'self'; img-src {images}; object-src 'none'; "
            f"base-uri 'none'; form-action 'self'; frame-ancestors {frame}")
