"""Every portal page in Chromium at a phone's width (390 px): nothing scrolls sideways.

Screenshots land in test-artifacts/portal-phone/ (and a few at 1280 px) for a person to look at.
"""
from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests

from oss_server.services import credentials, keys, store_admin
from tests.conftest import PASSWORD, make_update

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "portal-phone"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM),
                       reason=f"Chromium not installed at {CHROMIUM}"),
]

LONG_ID = "om-2026-12-07T10:15:00.123456Z-order-5003-change-status-" + "x" * 8


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield chromium
        chromium.close()


@pytest.fixture
def busy_store(live_url, session, make_merchant, make_store):
    """A store with everything a page can show: errors, tracking, refusals, a renewal banner."""
    merchant = make_merchant(email="phone@example.com",
                             paid_through=date.today() + timedelta(days=10))
    store = make_store(merchant, slug="outfitters-and-sons-international",
                       name="Outfitters & Sons International Trading Company")
    old, old_full = keys.create_api_key(session, store, "Back office workstation in the warehouse")
    _new, full = keys.create_api_key(session, store, "Replacement")
    store_admin.rotate_signing_secret(session, store)
    session.commit()
    post = lambda *updates, key=full: requests.post(  # noqa: E731
        f"{live_url}/api/v1/updates", json={"updates": list(updates)}, timeout=10,
        headers={"Authorization": f"Bearer {key}"})
    bad = make_update(LONG_ID, order_number="5003")
    bad["order"]["bill_to"] = {"name": "Pat"}
    bad["order"]["items"][0]["qty_ordered"] = -1
    shipped = make_update("u-2", 2, status="Some Items Backordered", tracking=[
        {"number": "1Z999AA10123456784", "carrier": "UPS", "shipped_on": "2026-12-01"},
        {"number": "9400111201080805483016"}])
    assert post(make_update("u-1"), bad, shipped).status_code == 200
    keys.revoke_key(session, store, old.key_id)
    session.commit()
    assert post(make_update("u-9"), key=old_full).status_code == 401
    return merchant, store, old


def _pages(store, old_key, reset_token):
    base = f"/account/stores/{store.slug}"
    return {
        "dashboard": "/account/", "store-dashboard": f"{base}/dashboard",
        "settings": base, "keys": f"{base}/keys", "key-revoke": f"{base}/keys/{old_key}/revoke",
        "labels": f"{base}/labels", "orders": f"{base}/orders", "order": f"{base}/orders/1",
        "activity": f"{base}/activity", "new-store": "/account/stores/new",
        "subscription": "/account/subscription", "account": "/account/settings",
        "two-factor": "/account/settings/two-factor", "not-found": f"{base}/orders/999",
    }, {
        "landing": "/", "login": "/account/login", "signup": "/account/signup",
        "reset-request": "/account/reset", "reset": f"/account/reset/{reset_token}",
    }


def _check(page, url, name) -> int:
    page.goto(url)
    page.wait_for_load_state("load")
    width = page.evaluate("document.documentElement.scrollWidth")
    page.screenshot(path=str(ARTIFACTS / f"{name}-{page.viewport_size['width']}.png"),
                    full_page=True)
    return width


def test_every_portal_page_fits_a_phone(live_url, browser, busy_store, app, session):
    merchant, store, old = busy_store
    rotate_key = keys.list_keys(session, store)[0].key_id
    signed_in_pages, public_pages = _pages(store, old.key_id, credentials.make_reset_token(
        app.config["SECRET_KEY"], merchant))
    signed_in_pages["key-rotate"] = f"/account/stores/{store.slug}/keys/{rotate_key}/rotate"
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    too_wide = {}
    for name, path in public_pages.items():
        width = _check(page, live_url + path, name)
        if width > 390:
            too_wide[name] = width
    page.goto(live_url + "/account/login")
    page.get_by_label("Email").fill(merchant.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Your stores").wait_for()
    for name, path in signed_in_pages.items():
        width = _check(page, live_url + path, name)
        if width > 390:
            too_wide[name] = width
    # The pages after a form: a key shown once, and the key-rotation result.
    page.goto(live_url + signed_in_pages["key-rotate"])
    page.get_by_role("button", name="Create the new key").click()
    page.locator("#new-key").wait_for()
    # Measured once the page's stylesheet has applied: a layout taken while it is still
    # loading (as on a busy machine) shows the key unwrapped.
    page.wait_for_load_state("load")
    if page.evaluate("document.documentElement.scrollWidth") > 390:
        too_wide["key-rotated"] = page.evaluate("document.documentElement.scrollWidth")
    page.screenshot(path=str(ARTIFACTS / "key-rotated-390.png"), full_page=True)
    context.close()
    assert too_wide == {}
    assert errors == []


def test_activity_and_dashboard_at_desktop_width(live_url, browser, busy_store):
    merchant, store, _old = busy_store
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(live_url + "/account/login")
    page.get_by_label("Email").fill(merchant.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Your stores").wait_for()
    for name, path in (("dashboard", "/account/"),
                       ("activity", f"/account/stores/{store.slug}/activity"),
                       ("labels", f"/account/stores/{store.slug}/labels")):
        assert _check(page, live_url + path, name) <= 1280, name
    # No word is broken across lines in the activity table, at a desktop width and at a
    # tablet's (the widest where the table is still a table): each run of letters and
    # digits ("applied", "Order", "5003") sits on one line (a break after a hyphen is fine).
    broken = {}
    for width in (1280, 700):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(live_url + f"/account/stores/{store.slug}/activity")
        page.screenshot(path=str(ARTIFACTS / f"activity-table-{width}.png"), full_page=True)
        broken[width] = page.evaluate(_BROKEN_WORDS)
    context.close()
    assert broken == {1280: [], 700: []}


# Words of the activity table's cells that the browser laid out over more than one line.
_BROKEN_WORDS = """() => {
    const out = [];
    for (const cell of document.querySelectorAll('.activity-table td')) {
        const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            for (const m of node.data.matchAll(/[\\p{L}\\p{N}]+/gu)) {
                if (m[0].length > 30) continue;  // a long unbroken id may wrap
                const range = document.createRange();
                range.setStart(node, m.index);
                range.setEnd(node, m.index + m[0].length);
                const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
                if (tops.size > 1) out.push(m[0]);
            }
        }
    }
    return out;
}"""
