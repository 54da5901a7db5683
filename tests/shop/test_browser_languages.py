"""Real Chromium: the status page in four languages, its progress tracker and local times."""
from __future__ import annotations

import re

import pytest

from oss_server.services.tokens import make_status_token
from oss_server.services.updates import apply_updates
from tests.conftest import TEST_FACTOR_KEY, make_update

from .test_browser import (
    ARGS,
    ARTIFACTS,
    CHROMIUM,
    no_sideways_scroll,
    pytestmark,  # noqa: F401  (browser marker, skips without Chromium/axe)
    serious_violations,
)

# English labels and stage names the order below shows in English.
ENGLISH = ("Received", "Approved", "Some Items Backordered", "Item Backordered",
           "Item Shipped", "Backordered", "Shipped")
BADGE = {"en": "Some Items Backordered", "es": "Algunos artículos pendientes de existencias",
         "fr": "Certains articles en attente de réapprovisionnement",
         "de": "Einige Artikel werden nachgeliefert"}
CURRENT = {"en": "Backordered", "es": "Pendiente de existencias", "fr": "En attente de stock",
           "de": "Wartet auf Ware"}
ITEM = {"en": "Item Shipped", "es": "Artículo enviado", "fr": "Article expédié",
        "de": "Artikel versandt"}
# 16:30 UTC on 14 July 2026 is 12:30 in New York, daylight time.
CLOCK = {"en": "Jul 14, 2026, 12:30\u202fPM EDT", "es": "14 jul 2026, 12:30 EDT",
         "fr": "14 juil. 2026, 12:30 EDT", "de": "14.07.2026, 12:30 EDT"}


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def _post(session, store, n, at, **order):
    update = make_update(f"lang-{order.get('order_number', '1001')}-{n}", sequence=n,
                         occurred_at=at, **order)
    result = apply_updates(session, store, [update], factor_key=TEST_FACTOR_KEY)
    session.commit()
    assert result.results[0]["result"] == "applied", result.results


@pytest.fixture
def backordered(app, session, store):
    """Order 1001 of a New York store: received, approved, then partly backordered."""
    store.timezone = "America/New_York"
    session.commit()
    items = [{"line_id": "1", "sku": "MUG-01", "name": "Stoneware mug", "qty_ordered": 2,
              "qty_shipped": 0, "qty_needed": 2, "status": "Item Backordered"},
             {"line_id": "2", "sku": "CAP-RED", "name": "Red cap", "qty_ordered": 1,
              "qty_shipped": 1, "qty_needed": 0, "status": "Item Shipped"}]
    _post(session, store, 1, "2026-07-14T14:00:00+00:00", status="Received")
    _post(session, store, 2, "2026-07-14T15:00:00+00:00", status="Approved")
    _post(session, store, 3, "2026-07-14T16:30:00+00:00", status="Some Items Backordered",
          items=items, tracking=[{"number": "1Z5R89390357567127"}])
    return _status_path(app, session, store, "1001")


def _status_path(app, session, store, number):
    from oss_server.models import Order

    order = session.query(Order).filter_by(store_id=store.id, order_number=number).one()
    return f"/s/{store.slug}/o/{make_status_token(app.secret_key, store.id, order.id)}"


def no_words_broken(page, selector: str) -> bool:
    """No element matched wraps onto more lines than it has words (no word split in two)."""
    return page.eval_on_selector_all(selector, """els => els.every(e => {
        const lines = Math.round(e.getClientRects().length);
        return lines <= e.textContent.trim().split(/\\s+/).length; })""")


def _english_words(text: str) -> list[str]:
    return [label for label in ENGLISH if re.search(rf"(?<![\w-]){label}(?![\w-])", text)]


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("lang", ["en", "es", "fr", "de"])
def test_status_page_speaks_the_shoppers_language(browser, live_url, backordered, lang, width):
    context = browser.new_context(viewport={"width": width, "height": 900},
                                  device_scale_factor=1 if width > 400 else 2)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_url}{backordered}?lang={lang}")
    page.wait_for_selector(f"html[lang={lang}]")

    main = page.inner_text("main")
    assert page.inner_text(".status-badge") == BADGE[lang]
    assert ITEM[lang] in main and CLOCK[lang] in main
    if lang == "en":
        assert set(_english_words(main)) == set(ENGLISH)  # the check below can see them
    else:
        assert _english_words(main) == []

    # The tracker: an ordered list, one current step, announced in words.
    steps = page.locator("ol.tracker > li")
    assert steps.count() == 3
    current = page.locator("ol.tracker > li[aria-current=step]")
    assert current.count() == 1 and CURRENT[lang] in current.inner_text()
    assert page.locator("ol.tracker").get_attribute("aria-label")
    # The current step looks different from the others (its marker is filled, not hollow).
    marks = page.eval_on_selector_all(
        "ol.tracker .step-mark", "els => els.map(e => getComputedStyle(e).backgroundColor)")
    assert marks[1] not in (marks[2], "rgb(255, 255, 255)")

    assert no_words_broken(page, "ol.tracker .step-name")
    assert no_sideways_scroll(page)
    assert serious_violations(page) == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"shop-status-{lang}-{width}.png"), full_page=True)
    assert errors == []
    context.close()


def test_shipped_order_shows_the_whole_path_done(browser, live_url, app, session, store):
    _post(session, store, 1, "2026-01-10T09:15:00+00:00", order_number="1002", status="Shipped")
    store.timezone = "Europe/Berlin"
    session.commit()
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    page = context.new_page()
    page.goto(f"{live_url}{_status_path(app, session, store, '1002')}?lang=de")
    names = page.locator("ol.tracker > li .step-name").all_inner_texts()
    assert names == ["Eingegangen", "In Bearbeitung", "Versandt"]
    current = page.locator("ol.tracker > li[aria-current=step]")
    assert current.inner_text().startswith("Versandt")
    assert "10.01.2026, 10:15 MEZ" in page.inner_text("main")  # Berlin, winter time
    assert no_words_broken(page, "ol.tracker .step-name")
    assert no_sideways_scroll(page)
    assert serious_violations(page) == []
    page.screenshot(path=str(ARTIFACTS / "shop-status-shipped-de-390.png"), full_page=True)
    context.close()


def test_merchant_words_a_label_in_spanish_on_a_phone(browser, live_url, app, session, store,
                                                       backordered):
    from tests.conftest import PASSWORD

    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    page = context.new_page()
    page.goto(f"{live_url}/account/login")
    page.get_by_label("Email").fill(store.merchant.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/account/**")
    page.goto(f"{live_url}/account/stores/acme/labels")
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader",
                                                              name="Some Items Backordered"))
    row.get_by_text("Languages and stage").click()
    row.get_by_label("Spanish (“Some Items Backordered”)").fill(
        "Parte del pedido llega más tarde")
    row.get_by_label("Stage on the progress tracker").select_option("on_hold")
    assert no_sideways_scroll(page)
    assert serious_violations(page) == []
    page.screenshot(path=str(ARTIFACTS / "portal-labels-languages-390.png"), full_page=False)
    row.get_by_role("button", name="Save wording for Some Items Backordered").click()
    page.wait_for_url("**/labels#labels")

    # The shopper's Spanish page reads the merchant's wording and the chosen stage; French
    # keeps the standard wording.
    page.goto(f"{live_url}{backordered}?lang=es")
    assert page.inner_text(".status-badge") == "Parte del pedido llega más tarde"
    assert "En espera" in page.inner_text("ol.tracker > li[aria-current=step]")
    page.goto(f"{live_url}{backordered}?lang=fr")
    assert page.inner_text(".status-badge") == BADGE["fr"]
    assert no_sideways_scroll(page)
    context.close()
