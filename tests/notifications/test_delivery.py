"""A status change that asks for it reaches the shopper's inbox, and nothing else about them."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from oss_server.models import Order
from oss_server.models.outbox import FAILED, PENDING, SENT, OutboxEmail
from oss_server.services.email_outbox import StatusLinks
from oss_server.services.tokens import read_status_token
from oss_server.services.updates import apply_updates
from tests.conftest import TEST_FACTOR_KEY, make_update


def shipped_update(update_id="u-2", sequence=2, **changes):
    return make_update(update_id, sequence, status="Shipped", items=[
        {"line_id": "1", "sku": "MUG", "name": "Mug", "qty_ordered": 2, "qty_shipped": 2,
         "qty_needed": 0, "status": "Item Shipped"},
        {"line_id": "2", "sku": "CAP", "name": "Cap", "qty_ordered": 1, "qty_shipped": 0,
         "qty_needed": 1, "status": "Item Backordered"},
    ], tracking=[{"number": "1Z999AA10123456784", "carrier": "UPS"}], **changes)


def notify(update):
    update["notify_customer"] = True
    return update


def outbox(session):
    return list(session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))


def test_status_change_reaches_the_inbox(app, session, shop_api, emailing_store, inbox, send):
    assert shop_api.results(notify(make_update())) == ["applied"]
    assert shop_api.results(notify(shipped_update())) == ["applied"]

    assert send().sent == 2
    assert len(inbox.messages) == 2
    message = inbox.messages[1]
    assert message["To"] == "pat@example.com"
    sender = message["From"].addresses[0]
    assert (sender.display_name, sender.addr_spec) == ("Mugs & Co", "no-reply@status.example.test")
    assert message["Reply-To"] == "help@mugs.example"
    assert message["Subject"] == "Mugs & Co: order 1001 is now Shipped"
    assert message["Auto-Submitted"] == "auto-generated"
    row = outbox(session)[1]
    assert re.fullmatch(rf"<outbox\.{row.id}\.\d{{14}}@status\.example\.test>",
                        message["Message-ID"])
    assert row.state == SENT and row.sent_at is not None and row.claim_token is None

    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for body in (text, html):
        assert "Shipped" in body and "2 × Mug (MUG)" in body and "1 × Cap (CAP)" in body
        assert "1Z999AA10123456784" in body
        assert "https://www.ups.com/track?loc=en_US&" in body.replace("&amp;", "&")
    link = re.search(r"https://status\.example\.test/s/([a-z0-9-]+)/o/(\S+)", text)
    assert link.group(1) == emailing_store.slug
    order = session.scalar(select(Order))
    assert read_status_token("test-secret", link.group(2), 30) == (emailing_store.id, order.id)
    assert f'href="{link.group(0)}"' in html
    # Nothing of the verification factors, and the address only in the envelope header.
    # Looked for in the decoded parts and the headers, but not in the Message-ID (a
    # timestamp), the MIME boundary (random digits) or the signed link token (checked
    # above), whose characters could spell a factor by chance.
    headers = [f"{name}: {value}" for part in message.walk() for name, value in part.items()
               if name.lower() != "message-id"]
    headers = [re.sub(r'boundary="[^"]*"', "", header) for header in headers]
    assert any(header.startswith("Subject: ") for header in headers)
    shown = "\n".join([text, html, *headers]).replace(link.group(2), "<token>")
    for secret in ("10001", "555-0199", "5550199", "2125550199", "(212)"):
        assert secret not in shown, secret
    assert "pat@example.com" not in text + html


def test_same_label_twice_sends_one_email(session, shop_api, inbox, send):
    assert shop_api.results(notify(make_update("u-1", 1))) == ["applied"]
    # A later snapshot with the same order label (only an item moved): no second email.
    again = notify(make_update("u-2", 2))
    again["order"]["items"][0]["status"] = "Item Packed"
    assert shop_api.results(again) == ["applied"]
    # Resending an update id changes nothing either.
    assert shop_api.results(notify(make_update("u-1", 1))) == ["duplicate"]

    assert send().sent == 1
    assert len(inbox.messages) == 1


def test_one_email_per_change_within_a_batch(session, shop_api, inbox, send):
    assert shop_api.results(notify(make_update("u-1", 1)), notify(shipped_update("u-2", 2)),
                            notify(shipped_update("u-3", 3))) == ["applied"] * 3
    assert send().sent == 2
    assert [m["Subject"].rsplit(" ", 1)[1] for m in inbox.messages] == ["Approved", "Shipped"]


def test_rolled_back_update_sends_nothing(app, session, emailing_store, inbox, send):
    links = StatusLinks.from_config(app.config)
    batch = apply_updates(session, emailing_store, [notify(make_update())],
                          factor_key=TEST_FACTOR_KEY, links=links)
    assert batch.results[0]["result"] == "applied" and len(outbox(session)) == 1
    session.rollback()

    assert outbox(session) == []
    assert not send()
    assert inbox.messages == []


def test_retried_batch_queues_its_email_once(session, shop_api, inbox, send, monkeypatch):
    from sqlalchemy.exc import IntegrityError

    if session.get_bind().dialect.name == "sqlite":
        pytest.skip("SQLite's write lock rules the insert race out; no batch is redone there")

    from oss_server.services import snapshot_writer

    real_insert, calls = snapshot_writer.insert_orders, []

    def insert_racing_once(*args):
        calls.append(1)
        if len(calls) == 1:
            # As if another worker stored the order first: the batch is redone.
            raise IntegrityError("INSERT", {}, Exception("unique"))
        return real_insert(*args)

    monkeypatch.setattr(snapshot_writer, "insert_orders", insert_racing_once)
    assert shop_api.results(notify(make_update())) == ["applied"]
    monkeypatch.undo()
    assert len(outbox(session)) == 1
    assert send().sent == 1 and len(inbox.messages) == 1


def test_no_email_unless_asked_enabled_and_on_file(session, client, make_store, make_api_key,
                                                   shop_api, inbox, send):
    from tests.conftest import Api

    quiet = Api(client, make_api_key(make_store(shopper_emails=False)))
    assert quiet.results(notify(make_update())) == ["applied"]           # store says no
    assert shop_api.results(make_update("u-1", 1)) == ["applied"]        # update did not ask
    no_email = notify(make_update("u-9", 1, order_number="2002"))
    del no_email["order"]["bill_to"]["email"]
    assert shop_api.results(no_email) == ["applied"]                      # no address on file
    assert outbox(session) == []
    assert not send() and inbox.messages == []


def test_hidden_label_is_not_announced(session, shop_api, emailing_store, inbox, send):
    emailing_store.label_map = {"Fraud Review": {"hidden": True}}
    session.commit()
    assert shop_api.results(notify(make_update(status="Fraud Review"))) == ["applied"]
    assert outbox(session) == []


def test_product_names_are_escaped_in_html(session, shop_api, inbox, send):
    update = notify(shipped_update("u-1", 1))
    update["order"]["items"][0]["name"] = '<script>alert("x")</script> & <b>Mug</b>'
    update["order"]["bill_to"]["name"] = "<img src=x onerror=alert(1)>"
    assert shop_api.results(update) == ["applied"]
    assert send().sent == 1
    message = inbox.messages[0]
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    assert "<script>" not in html and "<b>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;Mug&lt;/b&gt;" in html
    assert '<script>alert("x")</script> & <b>Mug</b>' in text


def test_temporary_smtp_error_is_retried(session, shop_api, inbox, send):
    inbox.data_replies.append("451 4.3.0 Mailbox busy, try later")
    assert shop_api.results(notify(make_update())) == ["applied"]

    first = send()
    assert (first.sent, first.retrying, first.failed) == (0, 1, 0)
    row = outbox(session)[0]
    assert row.state == PENDING and row.attempts == 1 and row.last_error.startswith("451")
    assert inbox.messages == []

    second = send()
    assert second.sent == 1 and len(inbox.messages) == 1
    session.refresh(row)
    assert row.state == SENT and row.attempts == 2 and row.last_error is None


def test_backoff_waits_before_the_next_attempt(session, shop_api, inbox, send):
    inbox.rcpt_replies.append("421 4.7.0 Too many connections")
    assert shop_api.results(notify(make_update())) == ["applied"]
    assert send(retry_base_s=600).retrying == 1
    assert not send()  # not due yet
    assert inbox.messages == []


def test_permanent_smtp_error_is_recorded_for_the_merchant(session, shop_api, emailing_store,
                                                           make_store, inbox, send):
    from oss_server.models import utcnow
    from oss_server.services.email_outbox import failed_notifications, retry_notification

    inbox.rcpt_replies.append("550 5.1.1 <PAT@example.com>: No such mailbox")
    assert shop_api.results(notify(make_update())) == ["applied"]
    result = send()
    assert (result.sent, result.retrying, result.failed) == (0, 0, 1)
    assert outbox(session)[0].state == FAILED

    failed = failed_notifications(session, emailing_store)
    assert len(failed) == 1
    assert failed[0]["order_number"] == "1001" and failed[0]["error"].startswith("550 5.1.1")
    assert failed[0]["error"] == "550 5.1.1 <<recipient>>: No such mailbox"
    assert "example.com" not in repr(failed)
    assert failed_notifications(session, make_store()) == []

    assert retry_notification(session, emailing_store, failed[0]["id"], utcnow())
    session.commit()
    assert send().sent == 1 and len(inbox.messages) == 1


def test_refused_sender_address_keeps_the_email(session, shop_api, inbox, send):
    # A 5xx to MAIL FROM is about OSS_MAIL_FROM, not the shopper: retry, never fail it.
    inbox.mail_replies.append("553 5.7.1 Sender address rejected")
    assert shop_api.results(notify(make_update())) == ["applied"]
    assert send().retrying == 1
    row = outbox(session)[0]
    assert row.state == PENDING and row.last_error.startswith("sender refused: 553")
    assert send().sent == 1


def test_too_many_temporary_failures_end_in_failed(session, shop_api, inbox, send):
    inbox.data_replies.extend(["452 4.2.2 Over quota"] * 3)
    assert shop_api.results(notify(make_update())) == ["applied"]
    for _ in range(3):
        send(max_attempts=3)
    row = outbox(session)[0]
    assert row.state == FAILED and row.last_error.startswith("gave up after 3 attempts: 452")


def test_unreachable_server_is_retried(app, session, shop_api, inbox, send):
    from tests.notifications.conftest import free_port

    app.config["OSS_SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}?timeout=2"
    assert shop_api.results(notify(make_update())) == ["applied"]
    result = send()
    assert result.retrying == 1
    row = outbox(session)[0]
    assert row.state == PENDING
    assert row.last_error.startswith("connecting to smtp://127.0.0.1:")
    assert "ConnectionRefusedError" in row.last_error
