"""Order Status System: the hosted service receiving order status updates."""
from __future__ import annotations

import logging

from flask import Flask

from . import config as config_module
from .cookie_sessions import SignedCookieSessions
from .resources import resource_dir

__all__ = ["create_app"]

log = logging.getLogger(__name__)


def create_app(config: dict | None = None) -> Flask:
    """Create the app: defaults, then ``OSS_*`` environment variables, then *config*."""
    app = Flask(__name__, template_folder=resource_dir("templates"),
                static_folder=resource_dir("static"), instance_relative_config=True)
    app.config.from_mapping(config_module.load(app.instance_path, config))
    app.session_interface = SignedCookieSessions()
    from . import web

    web.init_extensions(app)
    web.register_blueprints(app)
    web.register_hooks(app)
    web.register_commands(app)
    if config_module.is_default_secret(app.config) and not app.testing:
        log.warning("running with development secrets; set OSS_SECRET_KEY and OSS_FACTOR_KEY "
                    "(and OSS_ENV=production) before serving real shoppers")
    return app
