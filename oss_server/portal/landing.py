"""The site's front page: what the service is, and the way in."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

landing_bp = Blueprint("landing", __name__)


@landing_bp.route("/")
def index():
    """Welcome visitors; send signed-in merchants to their stores."""
    if current_user.is_authenticated:
        return redirect(url_for("portal.dashboard"))
    return render_template("landing.html")
