"""``GET /metrics``: Prometheus exposition, for the configured scrapers only."""
from __future__ import annotations

import hmac
import ipaddress
from datetime import datetime, timezone

from flask import Response, current_app, request
from sqlalchemy import func, select

from ..extensions import db
from ..models.outbox import CLAIMED, PENDING, OutboxEmail
from . import metrics
from .blueprint import bp


def allowed_networks(spec: str) -> list:
    """Parse OSS_METRICS_ALLOW (comma-separated addresses or networks; "none" for none)."""
    if spec.strip().lower() in ("", "none"):
        return []
    return [ipaddress.ip_network(part.strip(), strict=False)
            for part in spec.split(",") if part.strip()]


def scraper_allowed(token: str | None, networks: list, header: str, address: str | None) -> bool:
    """Admit the bearer of the metrics token, or a client inside an allowed network."""
    scheme, _, given = header.partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(),
                                                                     token.encode()):
        return True
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    ip = getattr(ip, "ipv4_mapped", None) or ip
    return any(ip in network for network in networks)


def read_outbox() -> tuple[int, float]:
    """Return (unsent emails, age in seconds of the oldest) from the outbox table."""
    try:
        depth, oldest = db.session.execute(
            select(func.count(OutboxEmail.id), func.min(OutboxEmail.created_at))
            .where(OutboxEmail.state.in_((PENDING, CLAIMED)))).one()
    finally:
        db.session.rollback()
    if oldest is None:
        return int(depth), 0.0
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=timezone.utc)
    return int(depth), max(0.0, (datetime.now(timezone.utc) - oldest).total_seconds())


@bp.get("/metrics")
def metrics_endpoint():
    """Expose the service's metrics in the Prometheus text format."""
    config = current_app.config
    if not scraper_allowed(config["OSS_METRICS_TOKEN"],
                           allowed_networks(str(config["OSS_METRICS_ALLOW"] or "")),
                           request.headers.get("Authorization", ""), request.remote_addr):
        return Response("Forbidden.\n", 403, mimetype="text/plain")
    body, content_type = metrics.render(read_outbox)
    return Response(body, 200, headers={"Content-Type": content_type,
                                        "Cache-Control": "no-store"})
