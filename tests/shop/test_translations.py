"""Every shopper-page message is translated, and the compiled catalogs are current."""
from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parents[2] / "oss_server" / "translations"


@pytest.mark.parametrize("lang", ["es", "fr", "de"])
def test_catalog_is_complete_and_compiled(lang):
    folder = TRANSLATIONS / lang / "LC_MESSAGES"
    with open(TRANSLATIONS / "messages.pot", "rb") as f:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    with open(folder / "messages.po", "rb") as f:
        po = {m.id if isinstance(m.id, str) else m.id[0]: m for m in read_po(f) if m.id}
    with open(folder / "messages.mo", "rb") as f:
        mo = {m.id if isinstance(m.id, str) else m.id[0]: m.string for m in read_mo(f) if m.id}
    shop = {m for m in wanted if m in po}
    untranslated = [m for m in shop if not all(po[m].string if isinstance(po[m].string, tuple)
                                               else [po[m].string])]
    assert untranslated == []
    assert {m for m in shop if m not in mo} == set(), "run pybabel compile"
    assert [m for m in shop if _text(mo[m]) != _text(po[m].string)] == [], "run pybabel compile"


def _text(string) -> tuple:
    return (string,) if isinstance(string, str) else tuple(string)
