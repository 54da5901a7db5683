"""Configuration: defaults, then ``OSS_*`` environment variables, then a test mapping."""
from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

# Keys read from the environment as OSS_<NAME>; the value type follows the default's.
DEFAULTS: dict[str, object] = {
    "ENV": "development",
    "SECRET_KEY": None,
    "FACTOR_KEY": None,
    "DATABASE_URL": None,
    "BASE_URL": "http://127.0.0.1:5000",
    # The portal on a host of its own (e.g. https://portal.example): /account is served
    # only there and shopper pages never are (see docs/deploy.md). Empty: one host.
    "PORTAL_URL": "",
    "RATELIMIT_STORAGE_URI": "memory://",
    "API_RATE_LIMIT": "1200 per minute",
    "LOOKUP_LIMIT_PER_IP": "10 per 15 minutes",
    "LOOKUP_LIMIT_PER_ORDER": "5 per 15 minutes; 20 per day",
    # Namespace of the lookup counters in Redis, so several deployments can share one Redis.
    "LOOKUP_KEY_PREFIX": "oss:lookup:",
    "SMTP_URL": None,
    "MAIL_FROM": "Order Status <no-reply@localhost>",
    # Sender: a claim older than this is presumed dead and its emails are retried.
    "MAIL_CLAIM_SECONDS": 300,
    "MAIL_BATCH_SIZE": 50,
    "MAIL_MAX_ATTEMPTS": 10,
    "MAIL_RETRY_BASE_S": 60,
    "MAIL_RETRY_MAX_S": 3600,
    "MAIL_KEEP_DAYS": 30,
    "ALLOW_SIGNUP": True,
    # Where merchants reach the operator about billing: an email address or a URL.
    "BILLING_CONTACT": None,
    "TRIAL_DAYS": 30,
    "GRACE_DAYS": 14,
    "STATUS_TOKEN_DAYS": 30,
    # Rendered status pages kept per worker process (0 turns the cache off).
    "PAGE_CACHE_SIZE": 2000,
    "PROXY_FIX": "",
    "MAX_BATCH": 500,
    "MAX_API_BODY": 1024 * 1024,
    "RETRY_AFTER_S": 5,
    "RECEIPT_DAYS": 7,
    # /metrics: a bearer token, and/or the client networks admitted without one ("none").
    "METRICS_TOKEN": None,
    "METRICS_ALLOW": "127.0.0.0/8,::1/128",
}

DEV_SECRET = "dev-only-secret-key-do-not-use-in-production"
DEV_FACTOR_KEY = "dev-only-factor-key-do-not-use-in-production"


class ConfigError(RuntimeError):
    """Raised when the configuration cannot run the service safely."""


def _coerce(raw: str, default: object) -> object:
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    return raw


def normalise_database_url(url: str) -> str:
    """Accept the usual ``postgresql://`` form and route it to the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def load(instance_path: str, overrides: dict | None = None, environ=os.environ) -> dict:
    """Build the Flask config mapping for one app instance."""
    values = dict(DEFAULTS)
    for name, default in DEFAULTS.items():
        raw = environ.get(f"OSS_{name}")
        if raw is not None and raw != "":
            values[name] = _coerce(raw, default if default is not None else "")
    overrides = dict(overrides or {})
    for name in list(overrides):
        if name.startswith("OSS_"):
            values[name[4:]] = overrides.pop(name)
    testing = bool(overrides.get("TESTING"))
    if testing:
        values["ENV"] = "testing"
    production = values["ENV"] == "production"
    for key, dev_value in (("SECRET_KEY", DEV_SECRET), ("FACTOR_KEY", DEV_FACTOR_KEY)):
        if not values[key]:
            if production:
                raise ConfigError(f"OSS_{key} must be set when OSS_ENV=production")
            values[key] = dev_value
    if not values["DATABASE_URL"]:
        values["DATABASE_URL"] = "sqlite:///" + os.path.join(instance_path, "oss.db")
    config = {f"OSS_{k}": v for k, v in values.items()}
    config.update(
        SECRET_KEY=values["SECRET_KEY"],
        SQLALCHEMY_DATABASE_URI=normalise_database_url(str(values["DATABASE_URL"])),
        # No pool_pre_ping: pool_checks pings only connections that sat idle.
        SQLALCHEMY_ENGINE_OPTIONS={},
        RATELIMIT_STORAGE_URI=values["RATELIMIT_STORAGE_URI"],
        RATELIMIT_HEADERS_ENABLED=True,
        # Flask-Limiter would otherwise put the window's reset time in Retry-After on every
        # response, turning a 503's "retry in 5 s" into up to a minute of client silence.
        RATELIMIT_HEADER_RETRY_AFTER="X-RateLimit-Retry-After",
        # The API's request limit survives a Redis outage per process; lookups never do
        # (their counters fail closed with 503, see services/limits.py and errors.py).
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=production,
        REMEMBER_COOKIE_SECURE=production,
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=30),
        WTF_CSRF_TIME_LIMIT=None,
        BABEL_DEFAULT_LOCALE="en",
        BABEL_SUPPORTED_LOCALES=["en", "es", "fr", "de"],
    )
    config.update(overrides)
    return config


def is_default_secret(config: dict) -> bool:
    """Tell whether the app runs on the development secrets."""
    return config.get("SECRET_KEY") == DEV_SECRET or config.get("OSS_FACTOR_KEY") == DEV_FACTOR_KEY


def secret_key(config: Mapping[str, Any]) -> str:
    """The SECRET_KEY that signs status links, reset links and two-factor enrolments.

    ``load`` always sets one (a development one outside production); a config that lost
    it, or holds bytes, fails here by name rather than as a signature that cannot match.
    """
    secret = config.get("SECRET_KEY")
    if not isinstance(secret, str) or not secret:
        raise ConfigError("SECRET_KEY must be set, as text (OSS_SECRET_KEY)")
    return secret
