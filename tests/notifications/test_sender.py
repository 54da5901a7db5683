"""The sender: crash safety, several senders at once, the command, and transports."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from oss_server.extensions import db
from oss_server.mail.sender import SenderSettings, backoff_seconds, build_message, send_pending
from oss_server.mail.transport import (
    DeliveryError,
    FileTransport,
    SmtpTransport,
    classify,
    parse_smtp_url,
    transport_from_config,
)
from oss_server.models import utcnow
from oss_server.models.outbox import CLAIMED, PASSWORD_RESET, SENT, OutboxEmail
from oss_server.services.email_outbox import queue_email
from tests.conftest import TEST_FACTOR_KEY

OSS_SERVER = str(Path(sys.executable).with_name("oss-server"))


def queue(session, count=1, **fields):
    rows = [queue_email(session, to=f"person{i}@example.com", subject=f"Hello {i}",
                        text=f"Body {i}", kind=PASSWORD_RESET, **fields) for i in range(count)]
    session.commit()
    return rows


def rows(session):
    session.expire_all()
    return list(session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))


def sender_env(app, database_url, **extra) -> dict:
    env = dict(os.environ)
    env.update({"OSS_DATABASE_URL": database_url, "OSS_SECRET_KEY": "test-secret",
                "OSS_FACTOR_KEY": TEST_FACTOR_KEY, "OSS_SMTP_URL": app.config["OSS_SMTP_URL"],
                "OSS_MAIL_FROM": app.config["OSS_MAIL_FROM"]})
    env.update({k: str(v) for k, v in extra.items()})
    return env


@pytest.mark.slow
def test_killed_sender_email_arrives_once_after_claim_expires(app, session, database_url,
                                                             inbox, send):
    queue(session)
    inbox.holding = True
    process = subprocess.Popen([OSS_SERVER, "send-notifications"],
                               env=sender_env(app, database_url, OSS_MAIL_CLAIM_SECONDS=15),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # The sender has claimed the row and is mid-conversation with the server.
        assert inbox.rcpt_reached.wait(30), "the sender never reached the SMTP server"
        (row,) = rows(session)
        assert row.state == CLAIMED and row.attempts == 1
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    inbox.holding = False

    # While the dead sender's claim lasts, nobody else sends the email.
    assert not send()
    assert inbox.messages == []

    time.sleep(max(0.0, (row.claimed_until - utcnow()).total_seconds()) + 0.2)
    assert send().sent == 1
    assert not send()
    assert len(inbox.messages) == 1
    (row,) = rows(session)
    assert row.state == SENT and row.attempts == 2


@pytest.mark.slow
def test_watch_delivers_within_seconds_and_stops_on_sigterm(app, session, database_url, inbox):
    process = subprocess.Popen([OSS_SERVER, "send-notifications", "--watch", "--interval", "0.2"],
                               env=sender_env(app, database_url), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        queue(session)
        deadline = time.monotonic() + 20
        while not inbox.messages and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(inbox.messages) == 1
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "Sent 1, retrying 0, failed 0." in out and "Stopped." in out


def test_senders_side_by_side_send_each_email_once(app, session, inbox):
    queue(session, 24)
    settings = SenderSettings.from_config(app.config)
    settings = SenderSettings(**{**settings.__dict__, "batch_size": 3})
    smtp = parse_smtp_url(app.config["OSS_SMTP_URL"])
    errors, engine = [], db.engine

    def sender():
        with Session(engine) as own:
            try:
                send_pending(own, SmtpTransport(smtp), settings)
            except Exception as exc:  # surfaced below
                errors.append(exc)

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert {row.state for row in rows(session)} == {SENT}
    ids = [message["Message-ID"] for message in inbox.messages]
    assert len(ids) == 24 and len(set(ids)) == 24


def test_password_reset_goes_through_the_same_sender(session, inbox, send):
    queue_email(session, to="owner@example.com", subject="Reset your\r\nBcc: x@evil password",
                text="Open https://status.example.test/account/reset/abc", kind=PASSWORD_RESET)
    session.commit()
    assert send().sent == 1
    (message,) = inbox.messages
    assert message["To"] == "owner@example.com" and message["Bcc"] is None
    assert message["Subject"] == "Reset your Bcc: x@evil password"
    assert message["From"].addresses[0].display_name == "Order Status"
    assert not message.is_multipart()


@pytest.mark.parametrize("to", ["", "a@b, c@d", "no-at-sign", "x@y\r\nBcc: z@w"])
def test_queue_email_takes_one_plain_address(session, to):
    with pytest.raises(ValueError):
        queue_email(session, to=to, subject="s", text="t")


def test_message_id_is_the_same_on_every_attempt(app, session):
    (row,) = queue(session)
    settings = SenderSettings.from_config(app.config)
    first = build_message(row, settings, utcnow())
    second = build_message(row, settings, utcnow())
    assert first["Message-ID"] == second["Message-ID"]
    assert first["Message-ID"].endswith("@status.example.test>")


def test_without_smtp_url_emails_become_eml_files(app, session, tmp_path, caplog):
    (row,) = queue(session)
    config = {**app.config, "OSS_SMTP_URL": None}
    transport = transport_from_config(config, str(tmp_path))
    assert isinstance(transport, FileTransport)
    assert transport.folder == str(tmp_path / "outbox")
    with caplog.at_level("INFO", logger="oss_server.mail.transport"):
        assert send_pending(session, transport, SenderSettings.from_config(app.config)).sent == 1
    (path,) = (tmp_path / "outbox").iterdir()
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert message["To"] == "person0@example.com"
    assert "wrote email to" in caplog.text


def test_send_notifications_command(app, session, runner, inbox):
    queue(session, 2)
    result = runner.invoke(args=["send-notifications"])
    assert result.exit_code == 0, result.output
    assert "Sent 2, retrying 0, failed 0." in result.output
    assert len(inbox.messages) == 2


def test_send_notifications_command_without_smtp(app, session, runner, tmp_path):
    queue(session)
    app.config["OSS_SMTP_URL"] = None
    app.instance_path = str(tmp_path)
    result = runner.invoke(args=["send-notifications"])
    assert result.exit_code == 0, result.output
    assert "OSS_SMTP_URL is not set" in result.output and "Sent 1" in result.output
    assert len(list((tmp_path / "outbox").iterdir())) == 1


@pytest.mark.parametrize("url, expected", [
    ("smtp://mail.example.com", ("mail.example.com", 25, False, None, None, None)),
    ("smtp://u%40x:p%3Ass@mail.example.com:2525?starttls=true",
     ("mail.example.com", 2525, False, True, "u@x", "p:ss")),
    ("smtp://mail.example.com?starttls=1", ("mail.example.com", 587, False, True, None, None)),
    ("smtp://u:p@127.0.0.1?starttls=false", ("127.0.0.1", 25, False, False, "u", "p")),
    ("smtps://user:pw@mail.example.com", ("mail.example.com", 465, True, None, "user", "pw")),
])
def test_parse_smtp_url(url, expected):
    s = parse_smtp_url(url)
    assert (s.host, s.port, s.ssl, s.starttls, s.username, s.password) == expected


@pytest.mark.parametrize("url", ["http://mail.example.com", "smtp://", "mail.example.com:25",
                                 "smtp://mail.example.com?starttls=maybe"])
def test_parse_smtp_url_rejects_other_forms(url):
    with pytest.raises(ValueError):
        parse_smtp_url(url)


def test_classify_decides_what_is_retried():
    import smtplib

    assert classify(smtplib.SMTPDataError(451, b"later")).temporary
    assert not classify(smtplib.SMTPDataError(554, b"spam")).temporary
    assert not classify(smtplib.SMTPRecipientsRefused({"a@b": (550, b"no")})).temporary
    assert classify(smtplib.SMTPServerDisconnected("gone")).temporary
    assert classify(ConnectionRefusedError()).temporary
    assert isinstance(classify(TimeoutError()), DeliveryError)


def test_backoff_doubles_up_to_the_cap():
    waits = [backoff_seconds(n, 60, 3600, jitter=lambda: 1.0) for n in range(1, 9)]
    assert waits == [60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_purge_forgets_old_sent_emails(app, session, runner, inbox, send):
    from datetime import timedelta

    old, recent = queue(session, 2)
    assert send().sent == 2
    old.created_at = utcnow() - timedelta(days=app.config["OSS_MAIL_KEEP_DAYS"] + 1)
    session.commit()
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0 and "1 emails" in result.output
    assert [row.id for row in rows(session)] == [recent.id]


def _start_auth_inbox(**server_options):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    from tests.notifications.conftest import Inbox, free_port

    class TlsAwareInbox(Inbox):
        async def handle_DATA(self, server, session, envelope):
            self.tls.append(session.ssl is not None)
            return await super().handle_DATA(server, session, envelope)

    handler = TlsAwareInbox()
    handler.logins = []  # (user, password, over TLS?) for every AUTH the server saw
    handler.tls = []  # for every message: was the session encrypted?

    def authenticate(server, session, envelope, mechanism, auth_data):
        handler.logins.append((auth_data.login, auth_data.password, session.ssl is not None))
        ok = (auth_data.login, auth_data.password) == (b"sender@x", b"p@ss:word")
        return AuthResult(success=ok, handled=False)

    handler.port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port,
                            authenticator=authenticate, **server_options)
    controller.start()
    return handler, controller


@pytest.fixture
def auth_inbox():
    """A loopback server that takes AUTH without offering STARTTLS."""
    handler, controller = _start_auth_inbox(auth_require_tls=False)
    yield handler
    controller.stop()


@pytest.fixture
def tls_auth_inbox(tmp_path, monkeypatch):
    """A loopback server that offers STARTTLS and takes AUTH only after it; trusted by us."""
    import functools
    import shutil
    import ssl

    if not shutil.which("openssl"):
        pytest.skip("needs the openssl command to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    monkeypatch.setattr(ssl, "create_default_context",
                        functools.partial(ssl.create_default_context, cafile=str(cert)))
    handler, controller = _start_auth_inbox(tls_context=server_context, auth_require_tls=True)
    yield handler
    controller.stop()


def test_password_goes_only_over_starttls_when_offered(app, session, tls_auth_inbox, send):
    app.config["OSS_SMTP_URL"] = f"smtp://sender%40x:p%40ss%3Aword@127.0.0.1:{tls_auth_inbox.port}"
    queue(session)
    assert send().sent == 1 and tls_auth_inbox.tls == [True]
    assert tls_auth_inbox.logins == [(b"sender@x", b"p@ss:word", True)]


def test_starttls_is_used_when_offered_even_without_a_login(app, session, tls_auth_inbox, send):
    app.config["OSS_SMTP_URL"] = f"smtp://127.0.0.1:{tls_auth_inbox.port}"
    queue(session)
    assert send().sent == 1
    assert tls_auth_inbox.tls == [True] and tls_auth_inbox.logins == []


def test_password_is_never_sent_in_plain_text_by_default(app, session, auth_inbox, send):
    app.config["OSS_SMTP_URL"] = f"smtp://sender%40x:p%40ss%3Aword@127.0.0.1:{auth_inbox.port}"
    queue(session)
    result = send()
    assert result.failed == 1 and result.sent == 0
    assert auth_inbox.logins == [] and auth_inbox.messages == []
    (row,) = rows(session)
    assert row.state == "failed"
    assert "does not offer STARTTLS" in row.last_error and "?starttls=false" in row.last_error
    assert "p@ss" not in row.last_error and "p%40ss" not in row.last_error


def test_login_from_the_url_and_a_refused_login_is_retried(app, session, auth_inbox, send):
    # A loopback relay without TLS: the operator says plain text is fine here.
    base = f"smtp://sender%40x:{{}}@127.0.0.1:{auth_inbox.port}?starttls=false"
    app.config["OSS_SMTP_URL"] = base.format("wrong")
    queue(session)
    assert send().retrying == 1
    (row,) = rows(session)
    assert row.state != "failed" and "535" in row.last_error
    app.config["OSS_SMTP_URL"] = base.format("p%40ss%3Aword")
    assert send().sent == 1 and len(auth_inbox.messages) == 1
