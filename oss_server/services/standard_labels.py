"""The standard labels' wording in each shopper language, and the stages of an order.

The standard labels are the client's default list (``seom_client/defaults.json``). Each
comes with its Spanish, French and German wording (English is the label itself) and the
stage of the order's journey it belongs to. A merchant may word any label per language
and choose its stage on the portal's labels page; this is what applies when they have not.

Kept as data rather than in the gettext catalogues: the portal (which speaks English)
lists the same wording and stages beside the merchant's own.
"""
from __future__ import annotations

from ..languages import LANGUAGES

# Stage names sit in a third of a phone's width: no word longer than about twelve letters.
# The main path, in order, then the exceptional stages an order can be held up in.
MAIN_PATH = ("received", "processing", "shipped")
EXCEPTIONS = ("backordered", "on_hold", "canceled")
STAGES = MAIN_PATH + EXCEPTIONS
DEFAULT_STAGE = "processing"  # a label nobody placed: the order is received and in hand

STAGE_NAMES: dict[str, dict[str, str]] = {
    "received": {"en": "Received", "es": "Recibido", "fr": "Reçue", "de": "Eingegangen"},
    # As the pages' neutral "Processing" reads (shown when no label is visible).
    "processing": {"en": "Processing", "es": "En proceso", "fr": "En cours de traitement",
                   "de": "In Bearbeitung"},
    "shipped": {"en": "Shipped", "es": "Enviado", "fr": "Expédiée", "de": "Versandt"},
    "backordered": {"en": "Backordered", "es": "Pendiente de existencias",
                    "fr": "En attente de stock", "de": "Wartet auf Ware"},
    "on_hold": {"en": "On hold", "es": "En espera", "fr": "En attente", "de": "Angehalten"},
    "canceled": {"en": "Canceled", "es": "Cancelado", "fr": "Annulée", "de": "Storniert"},
}

# label: (stage, Spanish, French, German)
_STANDARD: dict[str, tuple[str, str, str, str]] = {
    "Received": ("received", "Recibido", "Commande reçue", "Eingegangen"),
    "Approved": ("processing", "Aprobado", "Commande validée", "Freigegeben"),
    "On Hold": ("on_hold", "En espera", "En attente", "Zurückgestellt"),
    "Fraud Review": ("on_hold", "En revisión", "En cours de vérification", "In Prüfung"),
    "Payment Received": ("processing", "Pago recibido", "Paiement reçu", "Zahlung erhalten"),
    "Payment Updated": ("processing", "Pago actualizado", "Paiement mis à jour",
                        "Zahlung aktualisiert"),
    "Payment Voided": ("on_hold", "Pago anulado", "Paiement annulé", "Zahlung storniert"),
    "Credit Issued": ("processing", "Reembolso emitido", "Remboursement effectué",
                      "Gutschrift erstellt"),
    "Processing": ("processing", "En proceso", "En cours de traitement", "In Bearbeitung"),
    "Packed": ("processing", "Embalado", "Colis préparé", "Verpackt"),
    "Shipped": ("shipped", "Enviado", "Expédiée", "Versandt"),
    "Dispatched": ("shipped", "Entregado al transportista", "Remise au transporteur",
                   "An den Versanddienst übergeben"),
    "Tracking Updated": ("shipped", "Seguimiento actualizado", "Suivi mis à jour",
                         "Sendungsverfolgung aktualisiert"),
    "Backordered": ("backordered", "Pendiente de existencias", "En attente de réapprovisionnement",
                    "Wird nachgeliefert"),
    "Some Items Backordered": ("backordered", "Algunos artículos pendientes de existencias",
                               "Certains articles en attente de réapprovisionnement",
                               "Einige Artikel werden nachgeliefert"),
    "Backorder Filled": ("processing", "Artículos pendientes ya disponibles",
                         "Articles de nouveau disponibles", "Nachlieferung eingetroffen"),
    "Backorder Canceled": ("processing", "Artículos pendientes cancelados",
                           "Articles en attente annulés", "Nachlieferung storniert"),
    "Canceled": ("canceled", "Cancelado", "Commande annulée", "Storniert"),
    "Reinstated": ("processing", "Reactivado", "Commande rétablie", "Wieder aufgenommen"),
    "Item Added": ("processing", "Artículo añadido", "Article ajouté", "Artikel hinzugefügt"),
    "Item Revised": ("processing", "Artículo modificado", "Article modifié", "Artikel geändert"),
    "Item Canceled": ("canceled", "Artículo cancelado", "Article annulé", "Artikel storniert"),
    "Item Exchanged": ("processing", "Artículo cambiado", "Article échangé",
                       "Artikel umgetauscht"),
    "Item Backordered": ("backordered", "Artículo pendiente de existencias",
                         "Article en attente de réapprovisionnement",
                         "Artikel wird nachgeliefert"),
    "Item Backorder Filled": ("processing", "Artículo disponible de nuevo",
                              "Article de nouveau disponible", "Artikel wieder verfügbar"),
    "Item Scheduled": ("processing", "Envío programado", "Expédition planifiée",
                       "Versand geplant"),
    "Item Packed": ("processing", "Artículo embalado", "Article emballé", "Artikel verpackt"),
    "Item Shipped": ("shipped", "Artículo enviado", "Article expédié", "Artikel versandt"),
    "Item Dispatched": ("shipped", "Artículo entregado al transportista",
                        "Article remis au transporteur",
                        "Artikel an den Versanddienst übergeben"),
    "Item Returned": ("shipped", "Artículo devuelto", "Article retourné",
                      "Artikel zurückgesendet"),
    "Item Return Reversed": ("shipped", "Devolución anulada", "Retour annulé",
                             "Rücksendung storniert"),
    "Ordered From Supplier": ("processing", "Pedido al proveedor",
                              "Commandé auprès du fournisseur", "Beim Lieferanten bestellt"),
    "Supplier Order Canceled": ("processing", "Pedido al proveedor cancelado",
                                "Commande fournisseur annulée", "Lieferantenbestellung storniert"),
}

STANDARD_LABELS: tuple[str, ...] = tuple(_STANDARD)
_FOLDED = {label.casefold(): label for label in _STANDARD}


def standard_label(label: str | None) -> str | None:
    """The standard label *label* is (matched exactly, then ignoring case), or None."""
    if not label:
        return None
    if label in _STANDARD:
        return label
    return _FOLDED.get(label.casefold())


def standard_wording(label: str | None, locale: str) -> str | None:
    """The standard wording of *label* in *locale*; None for a label not in the list."""
    standard = standard_label(label)
    if standard is None:
        return None
    if locale == "en":
        return standard
    wording = _STANDARD[standard]
    index = LANGUAGES.index(locale) if locale in LANGUAGES else 0
    return wording[index] if index else standard


def standard_stage(label: str | None) -> str:
    """The stage a label belongs to unless the merchant chose one."""
    standard = standard_label(label)
    return _STANDARD[standard][0] if standard else DEFAULT_STAGE


def stage_name(stage: str, locale: str) -> str:
    """What a stage is called in *locale* (English for a language not spoken)."""
    names = STAGE_NAMES[stage]
    return names.get(locale) or names["en"]


def language(locale: str | None) -> str:
    """One of :data:`LANGUAGES` for a locale such as ``es_MX`` (English when unknown)."""
    code = (locale or "en").replace("_", "-").split("-")[0].lower()
    return code if code in LANGUAGES else "en"
