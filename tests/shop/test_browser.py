"""Real Chromium: a shopper looks an order up on a phone, by keyboard, checked by axe-core."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK),
                       reason=f"Chromium not installed at {CHROMIUM}"),
    pytest.mark.skipif(not AXE.is_file(), reason="axe-core missing: run npm install"),
]


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                  locale="en-US")
    page = context.new_page()
    page.errors = []
    page.on("console", lambda msg: page.errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    yield page
    context.close()


@pytest.fixture
def shipped_order(store, add_order, session):
    store.accent_color = "#7c2d12"
    session.commit()
    return add_order(store, status="Shipped", actual_ship_date="2026-11-21", items=[
        {"line_id": "1", "sku": "MUG-01", "name": "Stoneware mug", "qty_ordered": 2,
         "qty_shipped": 1, "qty_needed": 1, "status": "Item Backordered"},
        {"line_id": "2", "sku": "CAP-RED", "name": "Red cap with a rather long product name",
         "qty_ordered": 1, "qty_shipped": 1, "qty_needed": 0, "status": "Item Shipped"}],
        tracking=[{"number": "1Z5R89390357567127"}, {"number": "9400111201080805483016"}])


def serious_violations(page) -> list[str]:
    """Inject axe-core (outside the page's CSP, as an extension would) and run it."""
    page.evaluate(AXE.read_text())
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']]}"
            for v in results["violations"] if v["impact"] in ("serious", "critical")]


def tab_to(page, predicate: str, limit: int = 40) -> None:
    """Press Tab until the focused element satisfies the JS *predicate* (given ``el``)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => {{ const el = document.activeElement; return !!({predicate}); }}"):
            return
    raise AssertionError(f"never reached {predicate} with Tab")


def no_sideways_scroll(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def test_full_lookup_on_a_phone_by_keyboard(phone, live_url, shipped_order):
    ARTIFACTS.mkdir(exist_ok=True)
    phone.goto(f"{live_url}/s/acme/")
    assert no_sideways_scroll(phone)
    assert serious_violations(phone) == []

    # First a wrong verifier: the error state, announced and still usable.
    tab_to(phone, "el.id === 'order_number'")
    phone.keyboard.type("1001")
    tab_to(phone, "el.id === 'verifier'")
    phone.keyboard.type("99999")
    phone.keyboard.press("Enter")
    phone.wait_for_selector("#lookup-message")
    assert "could not find an order" in phone.inner_text("[role=alert]")
    assert no_sideways_scroll(phone)
    assert serious_violations(phone) == []
    phone.screenshot(path=str(ARTIFACTS / "shop-error-390.png"), full_page=True)

    # Then the right one, by keyboard only.
    tab_to(phone, "el.id === 'verifier'")
    phone.keyboard.type("10001-1234")
    phone.keyboard.press("Enter")
    phone.wait_for_url("**/s/acme/o/**")
    assert phone.inner_text("h1") == "Order 1001"
    assert no_sideways_scroll(phone)
    assert serious_violations(phone) == []
    html = phone.content()
    assert "10001" not in html and "pat@example.com" not in html.lower()

    tab_to(phone, "el.href && el.href.includes('ups.com')")
    outline = phone.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # focus is visible
    assert "tracknum=1Z5R89390357567127" in phone.evaluate("() => document.activeElement.href")
    phone.screenshot(path=str(ARTIFACTS / "shop-status-390.png"), full_page=True)
    assert phone.errors == []


def test_language_switcher_and_local_dates(phone, live_url, shipped_order):
    phone.goto(f"{live_url}/s/acme/")
    tab_to(phone, "el.getAttribute('hreflang') === 'de'")
    phone.keyboard.press("Enter")
    phone.wait_for_selector("html[lang=de]")
    assert phone.inner_text("h1") == "Bestellung verfolgen"
    tab_to(phone, "el.id === 'order_number'")
    phone.keyboard.type("W-1001")
    tab_to(phone, "el.id === 'verifier'")
    phone.keyboard.type("Pat@Example.com")
    phone.keyboard.press("Enter")
    phone.wait_for_url("**/s/acme/o/**")
    text = phone.inner_text("main")
    assert "Bestellung 1001" in text and "21. November 2026" in text  # the cookie kept German
    assert no_sideways_scroll(phone)
    assert serious_violations(phone) == []
    assert phone.errors == []
