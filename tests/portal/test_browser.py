"""A merchant in a real Chromium: sign-up to a working integration, then label wording.

Runs the app on a real server thread; Debian's chromium drives it through Playwright.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests

from tests.conftest import make_update

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "portal"
PASSWORD = "a browser-typed passphrase"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM),
                       reason=f"Chromium not installed at {CHROMIUM}"),
]


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        context = browser.new_context(viewport={"width": 1000, "height": 900})
        errors = []
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        yield page
        context.close()
        browser.close()
        assert errors == [], errors  # CSP violations and script errors show up here


def shot(page, name):
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_sign_up_to_integration_and_label_wording(live_url, page):
    page.goto(live_url + "/")
    page.get_by_role("link", name="Start a 30-day trial").click()
    page.get_by_label("Email").fill("browser@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    shot(page, "01-signup")
    page.get_by_role("button", name="Create account").click()
    page.get_by_text("We have sent an email to the address you gave.").wait_for()
    page.get_by_label("Email").fill("browser@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Your stores").wait_for()

    page.get_by_role("link", name="Create a store").click()
    page.get_by_label("Store name").fill("Browser Shop")
    page.get_by_label("Address (slug)").fill("browser-shop")
    page.get_by_label("Support email").fill("help@browser-shop.example")
    shot(page, "02-new-store")
    page.get_by_role("button", name="Create store").click()
    page.get_by_role("heading", name="API keys").wait_for()

    page.get_by_label("Label").fill("Back office")
    page.get_by_role("button", name="Create key").click()
    full_key = page.locator("#new-key").inner_text().strip()
    assert full_key.startswith("oss_")
    assert page.get_by_role("button", name="Copy").is_visible()  # the script ran, no inline code
    shot(page, "03-key-created")

    response = requests.post(live_url + "/api/v1/updates", timeout=10,
                             json={"updates": [make_update("browser-1")]},
                             headers={"Authorization": f"Bearer {full_key}"})
    assert response.json()["results"][0]["result"] == "applied"

    page.get_by_role("link", name="Activity").first.click()
    row = page.get_by_role("row").filter(has_text="browser-1")
    assert "applied" in row.inner_text()
    assert page.locator("svg rect.bar-applied").count() == 1
    shot(page, "04-activity")

    page.get_by_role("link", name="Labels").first.click()
    page.get_by_label("Wording for “Approved”").fill("Confirmed by the shop")
    page.get_by_role("button", name="Save wording for Approved").click()
    page.get_by_text("“Approved” updated.").wait_for()
    shot(page, "05-labels")

    page.goto(live_url + "/s/browser-shop/")
    page.locator("input[name=order_number]").fill("1001")
    page.locator("input[name=verifier]").fill("10001")
    page.locator("input[name=verifier]").press("Enter")
    page.get_by_text("Confirmed by the shop").first.wait_for()
    shot(page, "06-shopper-status")
