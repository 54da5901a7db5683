"""The shopper status email's wording in each language the shopper pages speak."""
from __future__ import annotations

LOCALES = ("en", "es", "fr", "de")

PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "subject": "{store}: order {number} is now {status}",
        "greeting": "Hello {name},",
        "greeting_anonymous": "Hello,",
        "intro": "There is news about your order {number} at {store}.",
        "status": "Status",
        "when": "Updated {when}",
        "shipped": "Shipped",
        "still_needed": "Still to ship",
        "tracking": "Tracking",
        "view": "See your order's status",
        "link_note": "This link shows your order's status for {days} days.",
        "contact": "Questions about your order? Contact {store}:",
        "footer": "You receive this email because you placed an order with {store}.",
    },
    "es": {
        "subject": "{store}: el pedido {number} ahora está en «{status}»",
        "greeting": "Hola, {name}:",
        "greeting_anonymous": "Hola:",
        "intro": "Hay novedades sobre su pedido {number} en {store}.",
        "status": "Estado",
        "when": "Actualizado el {when}",
        "shipped": "Enviado",
        "still_needed": "Pendiente de envío",
        "tracking": "Seguimiento",
        "view": "Ver el estado de su pedido",
        "link_note": "Este enlace muestra el estado de su pedido durante {days} días.",
        "contact": "¿Preguntas sobre su pedido? Contacte con {store}:",
        "footer": "Recibe este correo porque realizó un pedido en {store}.",
    },
    "fr": {
        "subject": "{store} : la commande {number} est maintenant « {status} »",
        "greeting": "Bonjour {name},",
        "greeting_anonymous": "Bonjour,",
        "intro": "Du nouveau pour votre commande {number} chez {store}.",
        "status": "Statut",
        "when": "Mis à jour le {when}",
        "shipped": "Expédié",
        "still_needed": "Reste à expédier",
        "tracking": "Suivi",
        "view": "Voir le statut de votre commande",
        "link_note": "Ce lien affiche le statut de votre commande pendant {days} jours.",
        "contact": "Une question sur votre commande ? Contactez {store} :",
        "footer": "Vous recevez ce message parce que vous avez passé commande chez {store}.",
    },
    "de": {
        "subject": "{store}: Bestellung {number} ist jetzt „{status}“",
        "greeting": "Hallo {name},",
        "greeting_anonymous": "Hallo,",
        "intro": "Es gibt Neuigkeiten zu Ihrer Bestellung {number} bei {store}.",
        "status": "Status",
        "when": "Aktualisiert am {when}",
        "shipped": "Versandt",
        "still_needed": "Noch zu versenden",
        "tracking": "Sendungsverfolgung",
        "view": "Status Ihrer Bestellung ansehen",
        "link_note": "Dieser Link zeigt den Status Ihrer Bestellung {days} Tage lang.",
        "contact": "Fragen zu Ihrer Bestellung? Kontaktieren Sie {store}:",
        "footer": "Sie erhalten diese E-Mail, weil Sie bei {store} bestellt haben.",
    },
}


def phrases(locale: str | None) -> dict[str, str]:
    """Return the wording for *locale* (``es``, ``es-MX``…), English when unknown."""
    language = (locale or "en").replace("_", "-").split("-")[0].lower()
    return PHRASES.get(language, PHRASES["en"])
