"""Changing a store's settings as a whole form, and its request-signing secrets."""
from __future__ import annotations

import secrets

from ..models import Store
from ..security import urls
from ..storage import DbSession
from .accounts import AccountError, set_store_setting

# During a rotation the order manager may still sign with the previous secret.
KEPT_SECRETS = 2


def apply_settings(session: DbSession, store: Store, values: dict) -> dict[str, str]:
    """Validate and set several settings; return {setting: message} for the refused ones.

    Nothing is flushed when something is refused; the caller rolls back.
    """
    errors: dict[str, str] = {}
    for name, value in values.items():
        try:
            set_store_setting(store, name, value)
        except AccountError as exc:
            errors[name] = exc.message
    if store.require_signature and not store.signing_secrets:
        # Requiring signatures with no secret would refuse every update.
        errors["require_signature"] = "Create a signing secret before requiring signatures."
    if not errors:
        session.flush()
    return errors


def stored_problems(store: Store) -> dict[str, str]:
    """Return {setting: message} for stored addresses and colours today's rules refuse.

    Rows saved before the rules keep their values, but shopper pages and emails leave
    them out (see security.urls); the portal asks the merchant to correct them.
    """
    return urls.stored_problems({name: getattr(store, name) for name in urls.CHECKED_SETTINGS})


def rotate_signing_secret(session: DbSession, store: Store) -> str:
    """Add a new signing secret (newest first), keep the previous one; return the new one."""
    secret = "whsec_" + secrets.token_urlsafe(32)
    store.signing_secrets = [secret, *(store.signing_secrets or [])][:KEPT_SECRETS]
    session.flush()
    return secret


def retire_previous_secrets(session: DbSession, store: Store) -> None:
    """Keep only the newest signing secret, once the order manager uses it."""
    store.signing_secrets = list(store.signing_secrets or [])[:1]
    session.flush()


def signing_secret_hint(secret: str) -> str:
    """Return a recognisable, harmless ending of a secret for listings."""
    return "…" + secret[-4:]
