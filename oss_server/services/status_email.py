"""Compose the shopper's status email: plain text and HTML, in the store's colours.

Only what the status page itself shows goes in: the store, the order number, the new
status as the store wants it read, items shipped and still to ship, tracking links and
the signed status link. Never the ZIP, phone or email used to verify the shopper.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ..models import Order, Store
from ..resources import resource_dir
from ..security.urls import mailto_href, safe_url, support_href
from . import carriers, labels
from .email_phrases import phrases
from .local_time import format_when, store_zone
from .standard_labels import language

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_DEFAULT_ACCENT = "#1f5fa8"


@dataclass(frozen=True)
class ComposedEmail:
    subject: str
    text: str
    html: str


@lru_cache(maxsize=1)
def _templates() -> Environment:
    # A Jinja environment of our own: composing runs inside apply_updates and the CLI,
    # with no request to render in. .html autoescapes; .txt is plain text by nature.
    return Environment(loader=FileSystemLoader(resource_dir("templates")),
                       autoescape=select_autoescape(["html"]), undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def shopper_locale(store: Store, order: Order) -> str:
    """Return the language to write to this shopper in: English until one is known."""
    # Known once the shopper has looked the order up (the status page's language, chosen
    # by Accept-Language or the switcher). compose_status_email speaks en/es/fr/de.
    return order.shopper_locale or "en"


def tracking_links(store: Store, entries: list[dict]) -> list[dict]:
    """Return each tracking number with its carrier's name and link (None when unsure)."""
    links = (carriers.link_for(entry["number"], entry.get("carrier"), store.carrier_rules)
             for entry in entries if (entry.get("number") or "").strip())
    return [{"number": link.number, "carrier": link.carrier, "url": link.url} for link in links]


def _items(snapshot: dict, name_of) -> tuple[list[dict], list[dict]]:
    shipped, needed = [], []
    for item in snapshot.get("items") or []:
        if item.get("qty_shipped"):
            shipped.append({"name": name_of(item), "qty": item["qty_shipped"]})
        if item.get("qty_needed"):
            needed.append({"name": name_of(item), "qty": item["qty_needed"]})
    return shipped, needed


def _item_name(item: dict) -> str:
    name = item.get("name") or item.get("sku") or item.get("line_id") or ""
    sku = item.get("sku")
    return f"{name} ({sku})" if sku and item.get("name") else name


def _when(occurred_at, store: Store, lang: str) -> str | None:
    """When the update's event fired, as the status page writes times (the store's zone)."""
    try:
        moment = datetime.fromisoformat(str(occurred_at))
    except ValueError:
        return None
    return format_when(moment, store_zone(store.timezone), lang)


def compose_status_email(store: Store, order: Order, update: dict, *, status_url: str,
                         locale: str = "en", link_days: int = 30) -> ComposedEmail | None:
    """Compose the email for one applied update; None when its status is hidden from shoppers."""
    snapshot = update["order"]
    lang = language(locale)
    # The status page's wording for the label in the shopper's language; a label hidden
    # from shoppers is not announced.
    status = labels.label_text(store, snapshot["status"], lang)
    if status is None:
        return None
    words = phrases(lang)
    number = snapshot["order_number"].strip()
    shipped, needed = _items(snapshot, _item_name)
    context = {
        "t": words, "lang": lang, "store": store, "number": number, "status": status,
        "when": _when(update.get("occurred_at"), store, lang),
        "name": (snapshot.get("bill_to") or {}).get("name"),
        "shipped": shipped, "needed": needed,
        "tracking": tracking_links(store, snapshot.get("tracking") or []),
        "status_url": status_url, "link_days": link_days,
        "accent": (store.accent_color if _COLOUR.match(store.accent_color or "")
                   else _DEFAULT_ACCENT),
        # Links from the store's settings pass the same gate as on its pages.
        "logo_url": safe_url(store.logo_url), "support_url": support_href(store.support_url),
        "support_email_href": mailto_href(store.support_email),
    }
    env = _templates()
    subject = words["subject"].format(store=store.name, number=number, status=status)
    return ComposedEmail(subject=subject,
                         text=env.get_template("mail/shopper_status.txt").render(context),
                         html=env.get_template("mail/shopper_status.html").render(context))
