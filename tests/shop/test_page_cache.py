"""Rendered status pages are reused only while everything they show is unchanged."""
from __future__ import annotations

from oss_server.services.labels import set_label_wording
from oss_server.shop.page_cache import PageCache


def _status_url(shopper, number="1001", verifier="10001"):
    found = shopper.lookup("acme", number, verifier)
    assert found.status_code == 303
    return found.headers["Location"]


def test_a_page_is_rendered_once_and_then_reused(app, shopper, store, add_order, monkeypatch):
    add_order(store, status="Approved")
    url = _status_url(shopper)
    renders = []
    import oss_server.shop.views as views
    real = views.render_shop
    monkeypatch.setattr(views, "render_shop",
                        lambda *a, **k: renders.append(a[0]) or real(*a, **k))
    first = shopper.client.get(url).get_data(as_text=True)
    second = shopper.client.get(url).get_data(as_text=True)
    assert first == second and "Approved" in second
    assert renders.count("shop/status.html") == 1


def test_an_update_a_renamed_label_and_a_language_show_at_once(shopper, session, store,
                                                              add_order):
    add_order(store, status="Approved")
    url = _status_url(shopper)
    assert "Approved" in shopper.client.get(url).get_data(as_text=True)
    add_order(store, status="Packed")
    assert "Packed" in shopper.client.get(url).get_data(as_text=True)
    set_label_wording(session, store, "Packed", "Packed with care")
    session.commit()
    assert "Packed with care" in shopper.client.get(url).get_data(as_text=True)
    german = shopper.client.get(url, headers={"Accept-Language": "de"},
                                query_string={"lang": "de"}).get_data(as_text=True)
    assert 'lang="de"' in german
    english = shopper.client.get(url, query_string={"lang": "en"}).get_data(as_text=True)
    assert 'lang="en"' in english and english != german


def test_the_cache_stays_within_its_size():
    pages = PageCache(2)
    for n in range(3):
        pages.put(PageCache.key(n), f"page {n}")
    assert pages.get(PageCache.key(0)) is None
    assert pages.get(PageCache.key(2)) == "page 2"
    off = PageCache(0)
    off.put(PageCache.key(1), "x")
    assert off.get(PageCache.key(1)) is None
