"""Shopper templates compiled once per language, their fixed phrases already translated.

Shopper pages are the busiest pages of the service; their templates get an environment
of their own per language (same loader, filters and globals as the app's), which saves
two kinds of work on every page: phrase lookups and URL building.

Phrases. A status page has about forty; looked up at render time each one is a template
call, a catalogue lookup and a markup check (in a profile, a fifth of rendering). Every
shopper page is compiled once per language instead, by an environment whose lexer
replaces each ``_("fixed phrase")`` with its translation as trusted markup (what the
call returns, so Jinja folds it into the page's static text), and each
``_("phrase with %(name)s", name=...)`` with a call that only formats the translation.
Anything else (``ngettext``, a phrase held in a variable) is left to the request's
callables of :mod:`.i18n`, so a template reads exactly as before in any language.

URLs. A page builds half a dozen (stylesheets, the store's theme, the lookup form), each
through the URL map's builder. ``url_for`` in these templates remembers what it built
for an endpoint, its values and the request's script root: with no ``url_defaults``
callbacks in the app, nothing else goes into a relative URL.

Fields. The pages show views built as plain dicts (the JSON lookup returns the same
ones), and ``order.status`` in a template first asks the dict for an attribute, which
fails with an exception, before it reads the key: about half a microsecond, eighty times
a page. These environments read a plain dict's key first (a key named like a dict method,
``items``, then wins over the method; the templates write ``order['items']`` anyway).
"""
from __future__ import annotations

from functools import lru_cache

from flask import current_app, render_template, request, url_for
from flask_babel import get_locale, get_translations
from jinja2 import Environment, Template
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
from markupsafe import Markup, escape

from .i18n import filters_for

_CALLS = ("_", "gettext")
FORMAT_NAME = "_translated_format"  # the global the rewritten calls use


def translated_format(translation: str, **variables) -> Markup:
    """A translated phrase with its ``%(name)s`` values, escaped: new-style gettext's rule."""
    # What ``Markup(translation) % variables`` gives, without its wrapper per value:
    # numbers stay numbers (for ``%d``), anything else is escaped as text.
    return Markup(translation % {name: value if isinstance(value, (int, float)) else escape(value)
                                 for name, value in variables.items()})


class TranslatedPhrases(Extension):
    """Rewrite fixed ``_()`` phrases to their translation while the template is lexed."""

    def __init__(self, environment: Environment):
        super().__init__(environment)
        environment.extend(phrase_catalogue=None)

    def filter_stream(self, stream: TokenStream):
        catalogue = self.environment.phrase_catalogue  # type: ignore[attr-defined]
        tokens = list(stream)
        index = 0
        while index < len(tokens):
            replaced = self._phrase(catalogue, tokens, index)
            if replaced is None:
                yield tokens[index]
                index += 1
                continue
            new_tokens, used = replaced
            yield from new_tokens
            index += used

    @staticmethod
    def _phrase(catalogue, tokens: list[Token], index: int):
        """The tokens replacing a phrase call starting at *index*, and how many it used."""
        call = tokens[index:index + 4]
        if (len(call) < 4 or call[0].type != "name" or call[0].value not in _CALLS
                or call[1].type != "lparen" or call[2].type != "string"
                or (index and tokens[index - 1].type == "dot")):
            return None
        line, translation = call[0].lineno, catalogue.gettext(call[2].value)
        if call[3].type == "rparen":
            # As the request's gettext formats a phrase without values ("%%" reads "%").
            text = str(Markup(translation) % {})
            return [Token(line, "lparen", "("), Token(line, "string", text),
                    Token(line, "pipe", "|"), Token(line, "name", "safe"),
                    Token(line, "rparen", ")")], 4
        if call[3].type == "comma":
            return [Token(line, "name", FORMAT_NAME), Token(line, "lparen", "("),
                    Token(line, "string", translation), call[3]], 4
        return None


class _ShopTemplates:
    """An app's shopper template environments, one per language, and their ``url_for``."""

    def __init__(self):
        self.url_for = remembering_url_for()
        self.environments: dict[str, Environment] = {}

    def environment(self, locale: str) -> Environment:
        environment = self.environments.get(locale)
        if environment is None:
            # Its own template cache (an overlay would start from the shared one, phrases
            # untranslated); loader and filters are the app's.
            environment = current_app.jinja_env.overlay(extensions=[TranslatedPhrases],
                                                         cache_size=100)
            # This request's catalogue is the locale's: the one its phrases are looked up in.
            environment.phrase_catalogue = get_translations()  # type: ignore[attr-defined]
            environment.globals = {**current_app.jinja_env.globals, "url_for": self.url_for}
            environment.getattr = _keys_first(environment.getattr)  # type: ignore[method-assign]
            # Dates and numbers formatted for this language, without asking the context.
            environment.filters = {**current_app.jinja_env.filters, **filters_for(locale)}
            self.environments[locale] = environment
        return environment


def _templates() -> _ShopTemplates:
    templates = current_app.extensions.get("oss_shop_templates")
    if templates is None:
        templates = current_app.extensions["oss_shop_templates"] = _ShopTemplates()
    return templates


def _keys_first(getattr_):
    def getattr_keys_first(obj, attribute):
        if type(obj) is dict and attribute in obj:
            return obj[attribute]
        return getattr_(obj, attribute)
    return getattr_keys_first


def remembering_url_for():
    """An app's ``url_for`` for these templates: each relative URL is built once."""
    @lru_cache(maxsize=4096)
    def built(script_root: str, endpoint: str, values: tuple) -> str:
        return url_for(endpoint, **dict(values))

    def remembered_url_for(endpoint: str, **values) -> str:
        # Relative endpoints depend on the blueprint, "_external" and the like on the request.
        if endpoint.startswith(".") or any(name.startswith("_") for name in values):
            return url_for(endpoint, **values)
        try:
            return built(request.script_root, endpoint, tuple(sorted(values.items())))
        except TypeError:  # a value that cannot be a key: built every time
            return url_for(endpoint, **values)

    return remembered_url_for


def localized_template(name: str) -> Template:
    """The shopper template *name* compiled for this request's language."""
    return _templates().environment(str(get_locale())).get_template(name)


def render_shop(name: str, **context) -> str:
    """``render_template`` for a shopper template, its phrases translated at compile time."""
    return render_template(localized_template(name), **context)
