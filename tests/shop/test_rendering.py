"""Shopper templates compiled per language read exactly as templates translated at render time."""
from __future__ import annotations

import re

import pytest
from jinja2 import Environment

import oss_server.shop.rendering as rendering
from oss_server.shop.rendering import TranslatedPhrases, translated_format

from .conftest import strip_volatile
from .test_status_page import open_status, shipped  # noqa: F401  (fixture)


class _Catalogue:
    """A catalogue that marks every phrase as translated (and gives one markup)."""

    @staticmethod
    def gettext(message: str) -> str:
        return "<b>bold</b>" if message == "Markup" else "T:" + message


def _baked(source: str, **context) -> str:
    environment = Environment(autoescape=True, extensions=[TranslatedPhrases])
    environment.phrase_catalogue = _Catalogue()
    environment.globals[rendering.FORMAT_NAME] = translated_format
    return environment.from_string(source).render(**context)


def test_fixed_phrases_become_their_translation_and_values_stay_escaped():
    source = ('{{ _("Order status") }}|{{ _("100%% sure") }}|{{ _("Markup") }}|'
              '{{ _("Order %(number)s", number=n) }}|{{ _("%(count)d left", count=3) }}|'
              '{{ x._("kept") }}|{{ _(phrase) }}')
    html = _baked(source, n="<1001>", x={"_": lambda s: "attr:" + s},
                  _=lambda s: "runtime:" + s, phrase="held")
    assert html == ("T:Order status|T:100% sure|<b>bold</b>|T:Order &lt;1001&gt;|T:3 left|"
                    "attr:kept|runtime:held")


@pytest.fixture
def app_config():
    return {"OSS_PAGE_CACHE_SIZE": 0}


@pytest.mark.parametrize("lang,heading", [("en", "Current status"), ("es", "Estado actual"),
                                          ("fr", "Statut actuel"), ("de", "Aktueller Status")])
def test_pages_read_the_same_as_translated_at_render_time(  # noqa: F811
        shopper, shipped, monkeypatch, lang, heading):
    found = shopper.lookup("acme", "1001", "10001")
    status_url = found.headers["Location"] + f"?lang={lang}"

    def pages():
        status = shopper.client.get(status_url).get_data(as_text=True)
        form = shopper.client.get(f"/s/acme/?lang={lang}").get_data(as_text=True)
        missing = shopper.client.get(f"/s/nowhere/?lang={lang}").get_data(as_text=True)
        return status, strip_volatile(form), missing

    baked = pages()
    # The same pages from the app's own environment: phrases looked up while rendering.
    monkeypatch.setattr(rendering, "localized_template", lambda name: name)
    assert pages() == baked
    assert f'<h2 id="status-title">{heading}</h2>' in baked[0]
    assert f'lang="{lang}"' in baked[0]


def _language_links(html: str) -> list[str]:
    switcher = html[html.index('class="lang-switch"'):]
    return re.findall(r'<a href="([^"]+)" lang="', switcher[:switcher.index("</nav>")])


def test_language_links_lead_to_this_page_under_the_mount_point(shopper, shipped):  # noqa: F811
    found = shopper.lookup("acme", "1001", "10001")
    path = found.headers["Location"]
    html = shopper.client.get(path).get_data(as_text=True)
    assert _language_links(html) == [f"{path}?lang={code}" for code in ("en", "es", "fr", "de")]
    # Served under a prefix, the links keep it; a failed lookup's page links to the form.
    mounted = shopper.client.get(path, environ_overrides={"SCRIPT_NAME": "/orders"})
    assert _language_links(mounted.get_data(as_text=True))[1] == f"/orders{path}?lang=es"
    failed = shopper.lookup("acme", "1001", "99999").get_data(as_text=True)
    assert _language_links(failed)[2] == "/s/acme/?lang=fr"
