"""App wiring: extensions, blueprints, request hooks and CLI commands."""
from __future__ import annotations

import os
from collections.abc import Callable
from functools import lru_cache, partial
from typing import Any, TypeVar

from flask import Flask, request
from flask_login import current_user
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header
from werkzeug.middleware.proxy_fix import ProxyFix

from .errors import register_error_handlers
from .extensions import babel, csrf, db, limiter, login_manager, migrate
from .languages import LANGUAGES
from .logs import install_redaction
from .resources import resource_dir

# Imported for their engine and pool hooks: the idle-connection check, SQLite settings.
from .storage import pool_checks, sqlite_settings  # noqa: F401


def init_extensions(app: Flask) -> None:
    """Bind the unbound extensions to *app*."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        os.makedirs(app.instance_path, exist_ok=True)
    app.config.setdefault("MAX_CONTENT_LENGTH", app.config["OSS_MAX_API_BODY"] + 64 * 1024)
    db.init_app(app)
    migrate.init_app(app, db, directory=resource_dir("migrations"), render_as_batch=True)
    csrf.init_app(app)
    _csrf_for_unsafe_methods_only(app)
    limiter.init_app(app)
    _limit_the_api_only(app)
    # Flask-Login's context processor loads the user for every template rendered, shopper
    # pages included; the proxy as a global is resolved only by a template that reads it.
    login_manager.init_app(app, add_context_processor=False)
    app.jinja_env.globals["current_user"] = current_user
    babel.init_app(app, locale_selector=_select_locale,
                   default_translation_directories=resource_dir("translations"))
    _configure_proxies(app)
    install_redaction()


# One kind of request hook (before, after or teardown): Flask keeps each in its own list.
_Hook = TypeVar("_Hook", bound=Callable[..., Any])


def _limit_the_api_only(app: Flask) -> None:
    """Run Flask-Limiter's request hooks for the update API's blueprint only.

    Only the update API carries Flask-Limiter limits (shopper lookups have their own
    failure counters, sign-in its throttle), yet the extension hooks every request of the
    app: its before-request check alone resolves the view's limits, blueprint exemptions
    and filters, about a quarter of a health probe's time. Scoped to the blueprint, the
    same hooks run in the same order for the requests that can be limited.
    """
    from .api import bp as api_bp

    def is_limiter_hook(func) -> bool:
        owner = func.args[0] if isinstance(func, partial) and func.args else None
        return getattr(func, "__self__", None) is limiter or owner is limiter

    def move(hooks: dict[str | None, list[_Hook]]) -> None:
        ours = [func for func in hooks.get(None, []) if is_limiter_hook(func)]
        if not ours:
            raise RuntimeError("Flask-Limiter's request hooks were not found")
        hooks[None] = [func for func in hooks[None] if func not in ours]
        hooks.setdefault(api_bp.name, []).extend(ours)

    move(app.before_request_funcs)
    move(app.after_request_funcs)
    move(app.teardown_request_funcs)


def _csrf_for_unsafe_methods_only(app: Flask) -> None:
    """Skip Flask-WTF's check for requests that carry no form to check (GET, HEAD…).

    Its hook resolves the view and its exemptions before it looks at the method, on every
    request; the pages shoppers load are all GETs. The method test first answers the same.
    """
    hooks = app.before_request_funcs.setdefault(None, [])
    ours = [func for func in hooks if func.__name__ == "csrf_protect"
            and func.__module__ == "flask_wtf.csrf"]
    if len(ours) != 1:
        raise RuntimeError("Flask-WTF's CSRF hook was not found")
    check = ours[0]

    def csrf_protect():
        if request.method in app.config["WTF_CSRF_METHODS"]:
            return check()
        return None

    hooks[hooks.index(check)] = csrf_protect




def _select_locale():
    chosen = request.args.get("lang") or request.cookies.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return _best_language(request.headers.get("Accept-Language", ""))


@lru_cache(maxsize=512)
def _best_language(header: str) -> str:
    # Browsers send a handful of distinct headers: parse each once, not on every request.
    return parse_accept_header(header, LanguageAccept).best_match(LANGUAGES) or "en"


def _configure_proxies(app: Flask) -> None:
    # OSS_PROXY_FIX="1,1,1,0,0": trust exactly that many proxies for for/proto/host/port/prefix.
    spec = str(app.config["OSS_PROXY_FIX"] or "").strip()
    if spec:
        counts = [int(x) for x in spec.split(",")] + [0] * 5
        # Flask's documented way to add WSGI middleware: the instance attribute shadows
        # the method, which mypy refuses for any method.
        app.wsgi_app = ProxyFix(app.wsgi_app, *counts[:5])  # type: ignore[method-assign]


def register_blueprints(app: Flask) -> None:
    """Register one blueprint per audience."""
    from .api import bp as api_bp
    from .ops import bp as ops_bp
    from .portal import bp as portal_bp
    from .portal import landing_bp
    from .shop import bp as shop_bp
    from .shop.api import bp as shop_api_bp

    # The API's only credential is the Authorization header, so CSRF does not apply;
    # the shopper JSON lookup takes no cookies either (its factors are in the body).
    csrf.exempt(api_bp)
    csrf.exempt(shop_api_bp)
    for blueprint in (api_bp, ops_bp, shop_bp, shop_api_bp, portal_bp, landing_bp):
        app.register_blueprint(blueprint)


def register_hooks(app: Flask) -> None:
    """Install error handlers, request ids, metrics and the security headers."""
    from .ops import access_log
    from .security import origin

    register_error_handlers(app)
    origin.init_app(app)
    access_log.init_app(app)

    @app.after_request
    def security_headers(response):
        # A view or blueprint hook may have set its own (the shopper pages' per-store
        # CSP): those win. One pass over the names present, not a scan per header.
        headers = response.headers
        present = {name.lower() for name, _ in headers}
        for name, value in _SECURITY_HEADERS:
            if name.lower() not in present:
                headers.add(name, value)
        if request.is_secure and "strict-transport-security" not in present:
            headers.add("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response


_SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("Content-Security-Policy", "default-src 'self'; script-src 'self'; object-src 'none'; "
                                "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    # No window of another site keeps a handle on ours (window.opener and the like).
    ("Cross-Origin-Opener-Policy", "same-origin"),
)


def register_commands(app: Flask) -> None:
    """Add the operator commands to ``oss-server`` / ``flask``."""
    from .cli import commands

    for command in commands:
        app.cli.add_command(command)
