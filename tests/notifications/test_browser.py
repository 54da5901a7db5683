"""The link in a delivered email opens the order's status page in a real browser."""
from __future__ import annotations

import os
import re

import pytest

from tests.conftest import make_update

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
def live_base_url(app, live_url):
    # The email's links must point at this server, so set the base before anything is queued.
    app.config["OSS_BASE_URL"] = live_url
    return live_url


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.mark.browser
@pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK),
                    reason=f"Chromium not installed at {CHROMIUM}")
def test_email_link_opens_the_status_page(live_base_url, shop_api, emailing_store, inbox, send,
                                          browser):
    update = make_update(status="Shipped", tracking=[{"number": "1Z999AA10123456784"}])
    update["notify_customer"] = True
    update["order"]["items"][0].update(qty_shipped=2, qty_needed=0, status="Item Shipped")
    assert shop_api.results(update) == ["applied"]
    assert send().sent == 1

    html = inbox.messages[0].get_body(("html",)).get_content()
    link = re.search(r'href="(http://127\.0\.0\.1:\d+/s/[^"]+/o/[^"]+)"', html).group(1)
    page = browser.new_page()
    try:
        response = page.goto(link)
        assert response.status == 200
        assert page.url == link
        body = page.inner_text("body")
        assert "1001" in body and "Shipped" in body and "Mug" in body
        tracking = page.locator("a", has_text="1Z999AA10123456784")
        assert tracking.first.get_attribute("href").startswith("https://www.ups.com/track")
        content = page.content()
        for secret in ("10001", "pat@example.com", "555-0199"):
            assert secret not in content
    finally:
        page.close()
