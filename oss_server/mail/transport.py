"""Where emails go: an SMTP server from ``OSS_SMTP_URL``, or ``.eml`` files in development.

``classify`` is the one place that decides whether a failed delivery is retried.
"""
from __future__ import annotations

import logging
import os
import re
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    """A delivery that failed; ``temporary`` ones are retried later, others are final."""

    def __init__(self, message: str, *, temporary: bool, code: int | None = None):
        super().__init__(message)
        self.temporary = temporary
        self.code = code


def classify(exc: BaseException) -> DeliveryError:
    """Turn an SMTP or network error into a retry-or-fail decision."""
    if isinstance(exc, DeliveryError):
        return exc
    if isinstance(exc, smtplib.SMTPSenderRefused):
        # Our own From address was refused: a configuration matter, not this shopper's
        # email's fault. Keep the email and let the operator fix OSS_MAIL_FROM.
        return DeliveryError(f"sender refused: {exc.smtp_code} {_text(exc.smtp_error)}",
                             temporary=True, code=exc.smtp_code)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        # One recipient per message: its answer is the answer.
        code, reply = next(iter(exc.recipients.values()))
        return _by_code(code, reply)
    if isinstance(exc, smtplib.SMTPResponseException):
        return _by_code(exc.smtp_code, exc.smtp_error)
    # Connection refused, reset, timed out, TLS trouble, server hung up: the server
    # never took responsibility for the message, so trying again is safe.
    return DeliveryError(f"{type(exc).__name__}: {exc}", temporary=True)


def _text(reply) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _by_code(code: int, reply) -> DeliveryError:
    # 5xx is the server's final word (unknown mailbox, policy); anything else may pass later.
    return DeliveryError(f"{code} {_text(reply)}".strip(), temporary=not 500 <= code < 600,
                         code=code)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    ssl: bool
    # True: STARTTLS required (``?starttls=true``); False: never, and a password may go in
    # plain text (``?starttls=false``, for a loopback relay); None: whenever the server offers
    # it, and no password is sent to a server that does not.
    starttls: bool | None
    username: str | None
    password: str | None
    timeout: float


_YES = {"1", "true", "yes", "on"}
_NO = {"0", "false", "no", "off"}


def parse_smtp_url(url: str) -> SmtpSettings:
    """Read ``smtp://user:pass@host:port[?starttls=true|false]`` or ``smtps://…``."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("OSS_SMTP_URL must look like smtp://[user:pass@]host[:port] or smtps://…")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    secure = parts.scheme == "smtps"
    choice = query.get("starttls", "").lower()
    if choice and choice not in _YES | _NO:
        raise ValueError("OSS_SMTP_URL: starttls must be true or false")
    starttls = None if secure or not choice else choice in _YES
    default_port = 465 if secure else (587 if starttls else 25)
    return SmtpSettings(
        host=parts.hostname, port=parts.port or default_port, ssl=secure, starttls=starttls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        timeout=float(query.get("timeout", 30)),
    )


class ConfigurationError(DeliveryError):
    """The SMTP settings themselves are unsafe or unusable: final, whatever the email."""

    def __init__(self, message: str):
        super().__init__(message, temporary=False)


class SmtpTransport:
    """Send over one SMTP connection, opened on first use and dropped after any error."""

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self._conn: smtplib.SMTP | None = None

    def describe(self) -> str:
        s = self.settings
        return f"{'smtps' if s.ssl else 'smtp'}://{s.host}:{s.port}"

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context()
        if s.ssl:
            conn: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout,
                                                  context=context)
        else:
            conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            conn.ehlo()
            if s.starttls or (s.starttls is None and not s.ssl and conn.has_extn("starttls")):
                conn.starttls(context=context)
                conn.ehlo()
            elif s.starttls is None and not s.ssl and s.username:
                # A password must never cross the network in clear text by default.
                raise ConfigurationError(
                    f"{self.describe()} does not offer STARTTLS: refusing to send the SMTP "
                    "password in plain text (use smtps://, a server with STARTTLS, or add "
                    "?starttls=false to OSS_SMTP_URL for a trusted loopback relay)")
            if s.username:
                conn.login(s.username, s.password or "")
        except BaseException:
            _quietly_close(conn)
            raise
        return conn

    def send(self, message: EmailMessage, sender: str, recipient: str) -> None:
        """Hand *message* to the server; raise ``DeliveryError`` when it is not accepted."""
        if self._conn is None:
            try:
                self._conn = self._connect()
            except ConfigurationError as exc:
                log.error("not sending email: %s", exc)
                raise DeliveryError(f"connecting to {self.describe()}: {exc}",
                                    temporary=False) from exc
            except Exception as exc:
                # Refused connection, TLS or login trouble (even a 5xx to AUTH) says nothing
                # about this email: never fail a shopper's email for the server's state.
                error = classify(exc)
                raise DeliveryError(f"connecting to {self.describe()}: {error}",
                                    temporary=True, code=error.code) from exc
        try:
            self._conn.send_message(message, from_addr=sender, to_addrs=[recipient])
        except Exception as exc:
            # After a refusal the session may be mid-transaction: start clean next time.
            self.close()
            raise classify(exc) from exc

    def close(self) -> None:
        """Say goodbye to the server, if connected."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                conn.quit()
            except Exception:
                _quietly_close(conn)


def _quietly_close(conn: smtplib.SMTP) -> None:
    try:
        conn.close()
    except Exception:  # the socket is going away either way
        pass


class FileTransport:
    """Development stand-in: write each email as ``<outbox id>.eml`` in a folder."""

    def __init__(self, folder: str):
        self.folder = folder

    def describe(self) -> str:
        return f"files in {self.folder}"

    def send(self, message: EmailMessage, sender: str, recipient: str) -> None:
        os.makedirs(self.folder, exist_ok=True)
        # Named after the Message-ID: a retried email overwrites its own file.
        name = re.sub(r"[^A-Za-z0-9._-]", "_", message["Message-ID"].strip("<>"))
        path = os.path.join(self.folder, f"{name}.eml")
        with open(path, "wb") as handle:
            handle.write(message.as_bytes())
        log.info("no OSS_SMTP_URL set: wrote email to %s instead of sending it", path)

    def close(self) -> None:
        pass


def transport_from_config(config, instance_path: str):
    """Return the SMTP transport of ``OSS_SMTP_URL``, or files under instance/outbox/."""
    url = config.get("OSS_SMTP_URL")
    if url:
        return SmtpTransport(parse_smtp_url(str(url)))
    return FileTransport(os.path.join(instance_path, "outbox"))
