"""Merchants, stores and subscriptions."""
from __future__ import annotations

import json
import re
from datetime import date, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import object_session

from ..errors import BadRequest, NotFound
from ..models import Activity, ApiKey, Merchant, Order, Store, UpdateReceipt
from ..security import urls
from ..security.urls import UnsafeValue
from ..storage import DbSession
from . import throttle
from .carriers import validate_carrier_rules
from .email_outbox import forget_shopper_recipients
from .local_time import TimeZoneError, parse_timezone
from .orders import delete_orders_where
from .passwords import check_policy, hash_password

PLAN_TRIAL = "trial"
PLAN_ANNUAL = "annual"
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
RETENTION_RANGE = (30, 730)


class AccountError(BadRequest):
    code = "account_error"


def normalise_account_email(email: str) -> str:
    """Trim and lower-case an account email, as every stored account email was."""
    # Not case-folded like a shopper's email factor (security.factors): "ß" stays "ß" here,
    # so accounts made before keep matching their sign-in.
    return email.strip().lower()


def get_merchant_by_email(session: DbSession, email: str) -> Merchant | None:
    """Return the merchant with this email, if any."""
    email = normalise_account_email(email)
    return session.scalar(select(Merchant).where(Merchant.email == email))


def create_merchant(session: DbSession, email: str, password: str, *,
                    paid_through: date | None = None, plan: str = PLAN_ANNUAL) -> Merchant:
    """Create a merchant account; the password must meet the policy.

    Sign-up (and ``create-merchant`` without a date) pass ``plan=PLAN_TRIAL``.
    """
    email = normalise_account_email(email)
    if "@" not in email or len(email) > 254:
        raise AccountError("Enter a valid email address.")
    check_policy(password)
    if get_merchant_by_email(session, email):
        raise AccountError("An account with that email already exists.")
    merchant = Merchant(email=email, password_hash=hash_password(password),
                        paid_through=paid_through, plan=plan)
    session.add(merchant)
    session.flush()
    return merchant


def renew(session: DbSession, merchant: Merchant, until: date) -> Merchant:
    """Set the date the subscription is paid through; a trial becomes the annual plan."""
    merchant.paid_through = until
    if merchant.plan == PLAN_TRIAL:
        merchant.plan = PLAN_ANNUAL
    session.flush()
    return merchant


def subscription_state(merchant: Merchant, today: date, grace_days: int) -> dict:
    """Describe the subscription: paid-through date, days left, lapsed or not, trial or not."""
    trial = merchant.plan == PLAN_TRIAL
    if merchant.paid_through is None:
        return {"paid_through": None, "days_left": 0, "in_grace": False, "lapsed": True,
                "trial": trial}
    days_left = (merchant.paid_through - today).days
    lapsed = not merchant.subscription_active(today, grace_days)
    return {"paid_through": merchant.paid_through, "days_left": max(days_left, 0),
            "in_grace": days_left < 0 and not lapsed, "lapsed": lapsed, "trial": trial}


def validate_slug(slug: str) -> str:
    """Return the slug if it is lower-case letters, digits and dashes."""
    if not SLUG.match(slug or ""):
        raise AccountError("Slugs use lower-case letters, digits and dashes (1–64).")
    return slug


def create_store(session: DbSession, merchant: Merchant, slug: str, name: str, **settings) -> Store:
    """Create a store owned by *merchant*."""
    validate_slug(slug)
    if not name.strip():
        raise AccountError("Give the store a name.")
    if session.scalar(select(Store.id).where(Store.slug == slug)):
        raise AccountError("That slug is taken.")
    store = Store(merchant=merchant, slug=slug, name=name.strip(), allowed_origins=[],
                  signing_secrets=[], label_map={}, carrier_rules=[])
    session.add(store)
    for key, value in settings.items():
        set_store_setting(store, key, value)
    session.flush()
    return store


def get_store(session: DbSession, slug: str, merchant: Merchant | None = None) -> Store:
    """Return the store by slug, scoped to *merchant* when given; else NotFound."""
    query = select(Store).where(Store.slug == slug)
    if merchant is not None:
        query = query.where(Store.merchant_id == merchant.id)
    store = session.scalar(query)
    if store is None:
        raise NotFound("No such store.")
    return store


def _parse_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise AccountError(f"Not a yes/no value: {value!r}.")


def _parse_origins(value) -> list[str]:
    items = value if isinstance(value, list) else re.split(r"[\s,]+", str(value))
    origins = []
    for typed in (o.strip().rstrip("/") for o in items if o and o.strip()):
        match = re.match(r"^(https?)://([A-Za-z0-9.-]+)(?::(\d+))?$", typed, re.I)
        if not match:
            raise AccountError(f"Not an origin (scheme://host[:port]): {typed}")
        # Stored as browsers send the Origin header (lower case, no default port), since
        # CORS and frame-ancestors compare it exactly.
        scheme, host, port = match.group(1).lower(), match.group(2).lower(), match.group(3)
        default = {"http": "80", "https": "443"}[scheme]
        origin = f"{scheme}://{host}" + (f":{port}" if port and port != default else "")
        if origin not in origins:
            origins.append(origin)
    return origins


def _parse_retention(value) -> int:
    try:
        days = int(value)
    except (TypeError, ValueError):
        raise AccountError("Retention is a number of days.") from None
    low, high = RETENTION_RANGE
    if not low <= days <= high:
        raise AccountError(f"Retention must be between {low} and {high} days.")
    return days


def _parse_text(limit: int):
    def parse(value):
        text = (str(value) if value is not None else "").strip()
        if len(text) > limit:
            raise AccountError(f"At most {limit} characters.")
        return text or None
    return parse


def _parse_name(value) -> str:
    name = _parse_text(120)(value)
    if not name:
        raise AccountError("Give the store a name.")
    return name


def _checked(parse):
    # The address and colour rules live in security.urls, shared with the read side.
    def check(value):
        try:
            return parse(value)
        except UnsafeValue as exc:
            raise AccountError(exc.message) from None
    return check


CARRIER_RULES_MAX_CHARS = 100_000


def _parse_carrier_rules(value) -> list[dict]:
    """A store's own carriers: a list of rules, or its JSON text (empty: none).

    The rules are checked by :func:`carriers.validate_carrier_rules`; every refusal is
    one line, so the CLI and the portal can show it as it is.
    """
    if isinstance(value, (list, tuple)):
        rules = list(value)
    else:
        text = (str(value) if value is not None else "").strip()
        if not text:
            return []
        if len(text) > CARRIER_RULES_MAX_CHARS:
            raise AccountError(f"Carrier rules are at most {CARRIER_RULES_MAX_CHARS} "
                               "characters of JSON.")
        try:
            rules = json.loads(text)
        except json.JSONDecodeError as exc:
            raise AccountError(f"Carrier rules are not valid JSON: {exc.msg} "
                               f"(line {exc.lineno}, column {exc.colno}).") from None
        except RecursionError:
            raise AccountError("Carrier rules are nested too deeply.") from None
    try:
        return validate_carrier_rules(rules)
    except ValueError as exc:
        raise AccountError(" ".join(str(exc).split())) from None


def carrier_rules_json(rules: list | None, indent: int | None = None) -> str:
    """A store's carrier rules as the JSON text ``store-settings`` shows and accepts."""
    return json.dumps(rules or [], ensure_ascii=False, indent=indent)


def _parse_timezone(value) -> str:
    try:
        return parse_timezone(value)
    except TimeZoneError as exc:
        raise AccountError(exc.message) from None


STORE_SETTINGS = {
    "name": _parse_name,
    "support_email": _checked(urls.parse_email),
    "support_phone": _parse_text(40),
    "support_url": _checked(urls.parse_support_link),
    "logo_url": _checked(urls.parse_web_url),
    "accent_color": _checked(urls.parse_colour),
    "allow_zip": _parse_bool,
    "allow_email": _parse_bool,
    "allow_phone": _parse_bool,
    "allowed_origins": _parse_origins,
    "retention_days": _parse_retention,
    "shopper_emails": _parse_bool,
    "require_signature": _parse_bool,
    "carrier_rules": _parse_carrier_rules,
    "timezone": _parse_timezone,
}


def set_store_setting(store: Store, name: str, value) -> None:
    """Change one setting of a store, validating the value."""
    parser = STORE_SETTINGS.get(name)
    if parser is None:
        raise AccountError(f"Unknown setting {name!r}; known: {', '.join(sorted(STORE_SETTINGS))}.")
    parsed = parser(value)
    if name == "shopper_emails" and not parsed:
        forget_readable_emails(store)
    setattr(store, name, parsed)


def forget_readable_emails(store: Store) -> None:
    """Drop readable shopper emails; the keyed hashes keep lookups working."""
    session = object_session(store)
    if session is not None and store.id is not None:
        session.execute(update(Order).where(Order.of_store(store.id)).values(email=None))
        # Queued and sent shopper emails hold the same addresses.
        forget_shopper_recipients(session, store.id)


def store_settings(store: Store) -> dict:
    """Return a store's settings as plain values (``carrier_rules`` as its JSON text)."""
    settings = {name: getattr(store, name) for name in STORE_SETTINGS}
    settings["carrier_rules"] = carrier_rules_json(settings["carrier_rules"])
    return settings


def delete_merchant(session: DbSession, merchant: Merchant) -> None:
    """Erase a merchant and everything of theirs."""
    for store in list(merchant.stores):
        delete_store(session, store)
    # The loaded collection still lists the erased stores; the cascade must not delete them twice.
    session.expire(merchant, ["stores"])
    throttle.forget_account(session, merchant.email)
    session.delete(merchant)
    session.flush()


def delete_store(session: DbSession, store: Store) -> None:
    """Erase a store with its keys, orders, receipts and activity."""
    delete_orders_where(session, Order.of_store(store.id))
    for model in (Activity, UpdateReceipt, ApiKey):
        session.execute(delete(model).where(model.store_id == store.id))
    session.delete(store)
    session.flush()


def trial_end(today: date, days: int) -> date:
    """Return the paid-through date of a new trial."""
    return today + timedelta(days=days)
