"""Flask's signed-cookie sessions: one serializer per key, nothing to do for no session."""
from __future__ import annotations

from functools import lru_cache

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


class SignedCookieSessions(SecureCookieSessionInterface):
    """Sessions exactly as Flask signs them; the serializer is built once per key set.

    Flask builds a new serializer (and its signer) when a request opens its session and
    again when the response saves it, although the keys change only with the
    configuration. The serializer holds no per-request state, so it is shared.
    """

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            return None
        fallbacks = tuple(app.config["SECRET_KEY_FALLBACKS"] or ())
        return self._serializer(app.secret_key, fallbacks)

    def open_session(self, app: Flask, request):
        # No cookie, no session to verify: skip building the serializer's key set.
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session, response) -> None:
        # Most requests (shopper pages, probes, the API) carry no session and change none.
        # Flask would still read seven cookie settings from the configuration before
        # deciding so; only its Vary rule applies to such a session.
        if not session and not session.modified:
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)

    @lru_cache(maxsize=8)  # noqa: B019  (one interface per app, kept as long as the app)
    def _serializer(self, secret_key, fallbacks: tuple) -> URLSafeTimedSerializer:
        # itsdangerous signs with the last key and also accepts the earlier ones.
        return URLSafeTimedSerializer(
            [*fallbacks, secret_key], salt=self.salt, serializer=self.serializer,
            signer_kwargs={"key_derivation": self.key_derivation,
                           "digest_method": self.digest_method})
