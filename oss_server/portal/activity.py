"""Activity: what the order manager sent and what became of it, with per-day counts."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from ..extensions import db
from ..services import activity_log, lookup_stats, order_search
from ..services.email_outbox import failed_notifications, retry_notification
from .blueprint import bp
from .charts import stacked_chart
from .error_words import plain_errors
from .forms import ActionForm
from .login import owned_store

CHART_DAYS = 30
_UPDATE_SERIES = [("applied", "bar-applied"), ("duplicate", "bar-duplicate"),
                  ("stale", "bar-stale"), ("rejected", "bar-rejected"),
                  ("refused", "bar-refused")]
_LOOKUP_SERIES = [("found", "bar-found"), ("not_found", "bar-not-found"),
                  ("limited", "bar-limited")]


def _charts(store):
    today = datetime.now(timezone.utc).date()
    days = activity_log.day_range(today, CHART_DAYS)
    updates = activity_log.daily_update_counts(db.session, store, today, CHART_DAYS)
    lookups: dict[str, dict] = {name: {} for name in lookup_stats.OUTCOMES}
    for row in lookup_stats.daily_lookup_stats(db.session, store, today, CHART_DAYS):
        for name in lookup_stats.OUTCOMES:
            lookups[name][row["day"]] = row[name]
    return [
        stacked_chart("Updates received per day", days,
                      [(name, css, updates.get(name, {})) for name, css in _UPDATE_SERIES]),
        stacked_chart("Shopper lookups per day", days,
                      [(name, css, lookups.get(name, {})) for name, css in _LOOKUP_SERIES]),
    ]


@bp.route("/stores/<slug>/activity")
@login_required
def activity(slug):
    """List the latest received updates (filterable by outcome) and the 30-day charts."""
    store = owned_store(slug)
    outcome = request.args.get("outcome")
    outcome = outcome if outcome in activity_log.OUTCOMES else None
    entries = activity_log.recent_activity(db.session, store, outcome)
    failed = failed_notifications(db.session, store)
    order_ids = order_search.order_ids_by_number(
        db.session, store, {e.order_number for e in entries}
        | {email["order_number"] for email in failed})
    return render_template("portal/activity.html", store=store, entries=entries,
                           order_ids=order_ids, plain_errors=plain_errors,
                           outcome=outcome, outcomes=activity_log.OUTCOMES,
                           charts=_charts(store), action_form=ActionForm(),
                           failed_emails=failed)


@bp.route("/stores/<slug>/emails/<int:email_id>/retry", methods=["POST"])
@login_required
def retry_email(slug, email_id):
    """Queue a shopper email that could not be delivered once more."""
    store = owned_store(slug)
    if not ActionForm().validate_on_submit():
        abort(400)
    if not retry_notification(db.session, store, email_id, datetime.now(timezone.utc)):
        abort(404)
    db.session.commit()
    flash("The email is queued again.", "success")
    return redirect(url_for(".activity", slug=store.slug))
