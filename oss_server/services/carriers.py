"""Tracking links: which carrier a number belongs to, and its tracking page.

The carrier named in the update wins, also when the name carries a service level
("UPS Ground", "Royal Mail Tracked 24"). Otherwise the number's format decides, with the
check digits the carriers define (UPS, FedEx, USPS IMpb, UPU S10). A number that fits
no carrier, or more than one, is shown without a link rather than with a wrong one.

Built-in formats are the table ``FORMATS``; a store extends it with ``carrier_rules``
(see :func:`validate_carrier_rules`), whose matches are preferred over the built-ins.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from ..security.urls import UnsafeValue, parse_web_url

CARRIERS: dict[str, tuple[str, str]] = {
    # code: (display name, tracking URL; the number replaces {n})
    "ups": ("UPS", "https://www.ups.com/track?loc=en_US&tracknum={n}"),
    "fedex": ("FedEx", "https://www.fedex.com/fedextrack/?trknbr={n}"),
    "usps": ("USPS", "https://tools.usps.com/go/TrackConfirmAction?tLabels={n}"),
    "dhl": ("DHL Express", "https://www.dhl.com/en/express/tracking.html?AWB={n}&brand=DHL"),
    "canada_post": ("Canada Post",
                    "https://www.canadapost-postescanada.ca/track-reperage/en#/search?searchFor={n}"),
    "royal_mail": ("Royal Mail", "https://www.royalmail.com/track-your-item#/tracking-results/{n}"),
}

# Names an order manager may send for the built-in carriers, compared as lower-case
# letters and digits only ("Fed-Ex Ground" -> "fedexground"). A sent name also resolves
# when it starts with, or contains, one of these as whole words (see _resolve_name).
ALIASES: dict[str, str] = {
    "ups": "ups", "unitedparcelservice": "ups",
    "fedex": "fedex", "federalexpress": "fedex", "fedexexpress": "fedex",
    "fedexground": "fedex", "fedexsmartpost": "fedex", "fedexhomedelivery": "fedex",
    "usps": "usps", "unitedstatespostalservice": "usps", "uspostalservice": "usps",
    "dhl": "dhl", "dhlexpress": "dhl",
    "canadapost": "canada_post", "postescanada": "canada_post",
    "royalmail": "royal_mail",
}


def _digits(text: str) -> list[int]:
    return [int(c) for c in text]


def mod10_31(serial: str, check: str) -> bool:
    """Weights 3, 1, 3… from the digit next to the check digit (USPS, FedEx Ground)."""
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(_digits(serial))))
    return (10 - total % 10) % 10 == int(check)


def ups_check(number: str) -> bool:
    """UPS ``1Z``: letters map to (code - 3) mod 10; every second character doubled."""
    values = [int(c) if c.isdigit() else (ord(c) - 3) % 10 for c in number[2:17]]
    total = sum(v * (2 if i % 2 else 1) for i, v in enumerate(values))
    return (10 - total % 10) % 10 == int(number[17])


def fedex_express_check(number: str) -> bool:
    """FedEx Express 12: weights 1, 3, 7 from the right, sum mod 11 mod 10."""
    weights = (1, 3, 7)
    total = sum(d * weights[i % 3] for i, d in enumerate(reversed(_digits(number[:11]))))
    return total % 11 % 10 == int(number[11])


def fedex_ground_check(number: str) -> bool:
    """FedEx Ground 15 digits, or the last 15 of a ``96`` 22-digit label."""
    return mod10_31(number[-15:-1], number[-1])


def fedex_smartpost_check(number: str) -> bool:
    """FedEx SmartPost 20 digits: IMpb check with the implied ``92`` prefix."""
    return mod10_31("92" + number[:-1], number[-1])


def usps_check(number: str) -> bool:
    """USPS IMpb / 20–22 digits (an optional ``420`` + ZIP routing prefix is not counted)."""
    body = _USPS_ROUTING.sub("", number) if len(number) > 22 else number
    if len(body) == 20 and mod10_31("91" + body[:-1], body[-1]):
        return True  # IMpb printed without its application identifier
    if len(body) == 22 and not re.match(r"9[1-5]", body):
        return False  # 22-digit IMpb starts with its application identifier 91–95
    return 20 <= len(body) <= 22 and mod10_31(body[:-1], body[-1])


def s10_check(number: str) -> bool:
    """UPU S10 ``XX#########CC``: weights 8 6 4 2 3 5 9 7, mod 11."""
    total = sum(d * w for d, w in zip(_digits(number[2:10]), (8, 6, 4, 2, 3, 5, 9, 7)))
    check = 11 - total % 11
    check = {10: 0, 11: 5}.get(check, check)
    return check == int(number[10])


def no_check(_number: str) -> bool:
    return True


CHECKS = {"none": no_check, "mod10": lambda n: mod10_31(n[:-1], n[-1]), "s10": s10_check,
          "ups": ups_check, "fedex12": fedex_express_check}

_USPS_ROUTING = re.compile(r"^420(?:\d{9}|\d{5})(?=\d{20,22}$)")


@dataclass(frozen=True)
class Format:
    carrier: str
    pattern: re.Pattern
    check: Callable[[str], bool]
    # The number names its carrier by itself (fixed letters plus a check digit), so it may
    # be linked even when the update names a carrier we do not know (see link_for).
    self_identifying: bool = False


def _fmt(carrier: str, pattern: str, check=no_check, self_identifying: bool = False) -> Format:
    return Format(carrier, re.compile(pattern), check, self_identifying)


FORMATS: list[Format] = [
    _fmt("ups", r"1Z[0-9A-Z]{16}", ups_check, self_identifying=True),
    _fmt("fedex", r"\d{12}", fedex_express_check),
    _fmt("fedex", r"\d{15}", fedex_ground_check),
    _fmt("fedex", r"\d{20}", fedex_smartpost_check),
    _fmt("fedex", r"96\d{20}", fedex_ground_check),
    _fmt("usps", r"(?:420(?:\d{5}|\d{9}))?\d{20,22}", usps_check),
    _fmt("usps", r"[A-Z]{2}\d{9}US", s10_check,
         self_identifying=True),
    _fmt("dhl", r"\d{10}", no_check),
    _fmt("royal_mail", r"[A-Z]{2}\d{9}GB", s10_check,
         self_identifying=True),
    _fmt("canada_post", r"[A-Z]{2}\d{9}CA", s10_check,
         self_identifying=True),
]


@dataclass(frozen=True)
class TrackingLink:
    """What a shopper sees for one tracking number: carrier name (if known) and URL."""

    number: str
    carrier: str | None
    url: str | None


def compact(number: str) -> str:
    """Upper-case a tracking number and drop spaces and dashes, as carriers print them."""
    return re.sub(r"[\s-]+", "", number).upper()


def _name_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.casefold())


def _url(template: str, number: str) -> str:
    return template.replace("{n}", quote(number, safe=""))


def _store_carriers(rules: list[dict]) -> dict[str, dict]:
    return {_name_key(rule["carrier"]): rule for rule in rules or []}


def _resolve_name(name: str, custom: dict[str, dict]) -> tuple[str, str, bool] | None:
    """Resolve a sent carrier name to (display name, URL template, is the store's own).

    Order managers send the carrier with its service level: "UPS Ground", "USPS Priority
    Mail", "Canada Post Expedited". The name is split into words and a run of whole words
    must spell a known name (an ALIASES key or a store carrier with a URL), so "UPSide
    Couriers" is not UPS and "US Postal Service" is USPS, not UPS. A name that *starts*
    with a known name resolves to the longest one ("DHL Express Worldwide" -> "dhlexpress",
    not "dhl"). Otherwise a known name anywhere in it ("Shipped via UPS Ground") resolves,
    but only if every such name is the same carrier ("Ship via FedEx or UPS" resolves to
    nothing rather than to a guess). A store's carrier beats a built-in alias
    spelt the same.
    """
    known: dict[str, tuple[str, str, bool]] = {
        alias: (*CARRIERS[code], False) for alias, code in ALIASES.items()}
    known.update({key: (rule["carrier"], rule["url"], True)
                  for key, rule in custom.items() if rule.get("url")})
    words = re.findall(r"[a-z0-9]+", name.casefold())
    longest = max(map(len, known))
    spans: list[tuple[int, int, str]] = []
    for i in range(len(words)):
        joined = ""
        for j in range(i + 1, len(words) + 1):
            joined += words[j - 1]
            if len(joined) > longest:  # bounded work however long the sent name is
                break
            if joined in known:
                spans.append((i, j, joined))
    prefixed = [span for span in spans if span[0] == 0]
    if prefixed:
        return known[max(prefixed, key=lambda span: len(span[2]))[2]]
    kept: list[tuple[int, int, str]] = []
    for span in sorted(spans, key=lambda span: -len(span[2])):  # longest first
        if all(span[1] <= other[0] or span[0] >= other[1] for other in kept):
            kept.append(span)
    targets = {known[span[2]] for span in kept}
    return targets.pop() if len(targets) == 1 else None


def _detect(code: str, store_rules: list[dict]) -> set[str]:
    """Carrier names whose formats fit *code*: the store's rules first, then the table."""
    found = {rule["carrier"] for rule in store_rules if _mask_matches(rule, code)}
    return found or {CARRIERS[f.carrier][0] for f in FORMATS
                     if f.pattern.fullmatch(code) and f.check(code)}


def link_for(number: str, carrier: str | None,
             store_rules: list[dict] | None = None) -> TrackingLink:
    """Return the tracking link for *number*; *carrier* is the name the update sent."""
    shown = number.strip()
    code = compact(shown)
    custom = _store_carriers(store_rules or [])
    if carrier and carrier.strip():
        resolved = _resolve_name(carrier, custom)
        if resolved:
            name, template, own = resolved
            # A merchant's own carrier gets the number as sent (its dashes may matter).
            return TrackingLink(shown, name, _url(template, re.sub(r"\s+", "", shown)
                                                  if own else code))
        # The name is no carrier we know: a courier without a tracking page here ("Joe's
        # Courier") or a shipping method sent as the carrier ("Standard Shipping"). The
        # shopper expects a link that works and never one to the wrong carrier's page, so
        # the number is linked only when it names its carrier by itself -- a UPS 1Z or a
        # UPU S10 number with a valid check digit -- and detection gives exactly one
        # carrier; the label is then that carrier, the page the link opens. Numbers made of
        # digits only are not enough: a local courier's 10-digit number fits DHL by length
        # alone and a 12-digit one passes FedEx's check one time in ten, so those keep the
        # sent name and no link, as a name we do not know always did.
        if any(f.self_identifying and f.pattern.fullmatch(code) and f.check(code)
               for f in FORMATS):
            found = _detect(code, store_rules or [])
            if len(found) == 1:
                link = _detected_link(shown, code, found.pop(), custom)
                if link.url:
                    return link
        return TrackingLink(shown, carrier.strip(), None)
    found = _detect(code, store_rules or [])
    if len(found) != 1:
        return TrackingLink(shown, None, None)
    return _detected_link(shown, code, found.pop(), custom)


def _detected_link(shown: str, code: str, name: str, custom: dict[str, dict]) -> TrackingLink:
    rule = custom.get(_name_key(name))
    template = rule["url"] if rule and rule.get("url") else _template_by_name(name)
    return TrackingLink(shown, name, _url(template, code) if template else None)


def _template_by_name(name: str) -> str | None:
    for display, template in CARRIERS.values():
        if display == name:
            return template
    code = ALIASES.get(_name_key(name))
    return CARRIERS[code][1] if code else None


# Store rules use masks, not regular expressions: "#" a digit, "A" a letter, "*" either,
# anything else itself. Linear to match, so a merchant's rule cannot stall a worker.
_MASK = {"#": "[0-9]", "A": "[A-Z]", "*": "[0-9A-Z]"}


def mask_regex(mask: str) -> re.Pattern:
    """Compile a store rule's mask (e.g. ``C##############``) to a regular expression."""
    return re.compile("".join(_MASK.get(c, re.escape(c)) for c in compact(mask)))


def _mask_matches(rule: dict, code: str) -> bool:
    check = CHECKS.get(rule.get("check") or "none", no_check)
    return any(mask_regex(mask).fullmatch(code) and check(code)
               for mask in rule.get("patterns") or [])


def validate_carrier_rules(rules: list) -> list[dict]:
    """Return *rules* cleaned, or raise ValueError saying what is wrong.

    Each rule: ``{"carrier": "OnTrac", "url": "https://…{n}…", "patterns": ["C##############"],
    "check": "none"}``. ``patterns`` may be empty (the carrier is then only linked when
    the update names it); ``check`` is one of ``none``, ``mod10``, ``s10``, ``ups``, ``fedex12``.
    """
    if not isinstance(rules, list) or len(rules) > 50:
        raise ValueError("Carrier rules are a list of at most 50 rules.")
    cleaned = []
    for rule in rules:
        if not isinstance(rule, dict) or set(rule) - {"carrier", "url", "patterns", "check"}:
            raise ValueError("A rule has carrier, url, patterns and check only.")
        name, url = rule.get("carrier") or "", rule.get("url") or ""
        patterns = rule.get("patterns") or []
        check = rule.get("check") or "none"
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > 64:
            raise ValueError("Each rule needs a carrier name (at most 64 characters).")
        name = name.strip()
        url = url.strip() if isinstance(url, str) else None
        if url is None or url and (not url.startswith("https://") or "{n}" not in url
                                   or len(url) > 500):
            raise ValueError(f"{name}: the URL must start with https:// and contain {{n}}.")
        if url:
            try:  # the shared address rules, with a stand-in for the tracking number
                parse_web_url(url.replace("{n}", "0"), allow_local_http=False)
            except UnsafeValue as exc:
                raise ValueError(f"{name}: {exc.message}") from None
        if not isinstance(patterns, list) or len(patterns) > 10 or not all(
                isinstance(p, str) and 4 <= len(p) <= 40 for p in patterns):
            raise ValueError(f"{name}: patterns are up to 10 masks of 4–40 characters.")
        if not isinstance(check, str) or check not in CHECKS:
            raise ValueError(f"{name}: check is one of {', '.join(sorted(CHECKS))}.")
        cleaned.append({"carrier": name, "url": url or None, "patterns": patterns,
                        "check": check})
    return cleaned
