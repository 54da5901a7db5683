"""Label wording: how a store's labels read to shoppers."""
from __future__ import annotations

import pytest

from oss_server.services.labels import LabelError, label_text, set_label_wording


def test_set_label_wording_rewords_hides_and_resets(session, store):
    set_label_wording(session, store, "Shipped", text="On its way")
    set_label_wording(session, store, "Fraud Review", hidden=True)
    session.commit()
    assert store.label_map == {"Shipped": {"text": "On its way", "hidden": False},
                               "Fraud Review": {"text": None, "hidden": True}}
    assert label_text(store, "shipped") == "On its way"
    assert label_text(store, "FRAUD REVIEW") is None
    assert label_text(store, "Approved") == "Approved"
    set_label_wording(session, store, "SHIPPED")  # no text, not hidden: back to as sent
    session.commit()
    assert label_text(store, "Shipped") == "Shipped" and "Shipped" not in store.label_map


@pytest.mark.parametrize("label, text", [("", "x"), ("x" * 65, "y"), ("Shipped", "z" * 65)])
def test_label_wording_limits(session, store, label, text):
    with pytest.raises(LabelError):
        set_label_wording(session, store, label, text=text)
