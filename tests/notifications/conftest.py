"""Fixtures for shopper emails: a real SMTP server on loopback and a store that emails."""
from __future__ import annotations

import asyncio
import socket
import threading
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from oss_server.mail.sender import SenderSettings, send_pending
from oss_server.mail.transport import transport_from_config
from tests.conftest import Api


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """An aiosmtpd handler that keeps what it accepts and can answer with set replies."""

    def __init__(self):
        self.messages = []
        self.mail_replies: list[str] = []
        self.rcpt_replies: list[str] = []
        self.data_replies: list[str] = []
        self.holding = False
        self.rcpt_reached = threading.Event()

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.mail_replies:
            return self.mail_replies.pop(0)
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_reached.set()
        # Holding keeps a client mid-conversation, after it claimed rows, before DATA.
        while self.holding:
            await asyncio.sleep(0.02)
        if self.rcpt_replies:
            return self.rcpt_replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_replies:
            return self.data_replies.pop(0)
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(message)
        return "250 Message accepted for delivery"


@pytest.fixture
def inbox():
    handler = Inbox()
    handler.port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    yield handler
    handler.holding = False
    controller.stop()


@pytest.fixture
def app_config(inbox):
    return {"OSS_SMTP_URL": f"smtp://127.0.0.1:{inbox.port}",
            "OSS_BASE_URL": "https://status.example.test",
            "OSS_MAIL_FROM": "Order Status <no-reply@status.example.test>",
            "OSS_MAIL_RETRY_BASE_S": 0, "OSS_MAIL_CLAIM_SECONDS": 60}


@pytest.fixture
def emailing_store(make_store):
    return make_store(name="Mugs & Co", shopper_emails=True, support_email="help@mugs.example",
                      accent_color="#aa3300")


@pytest.fixture
def shop_api(client, make_api_key, emailing_store):
    return Api(client, make_api_key(emailing_store))


@pytest.fixture
def send(app, session):
    """Run one sender pass with the app's settings; return its totals."""
    def run(**changes):
        settings = SenderSettings.from_config(app.config)
        if changes:
            settings = SenderSettings(**{**settings.__dict__, **changes})
        return send_pending(session, transport_from_config(app.config, app.instance_path),
                            settings)
    return run
