"""A store's time zone: the setting's validation, and times written as its shoppers read them.

Every date and time a shopper sees (status page, history, emails) is shown in the store's
zone with the zone's short name, in the shopper's language: ``Nov 20, 2026, 5:01 AM EST``,
``20.11.2026, 11:01 MEZ``. Dates without a time (ship dates) are dates, never converted.
"""
from __future__ import annotations

from datetime import date, datetime, time, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel import Locale, dates

from ..errors import BadRequest

DEFAULT_ZONE = "UTC"


class TimeZoneError(BadRequest):
    code = "invalid_setting"


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    # Reading the zone database lists files: done once. Case-folded, so a typed
    # "america/new_york" is taken as the zone it names.
    names = {name.casefold(): name for name in available_timezones()}
    names.setdefault("utc", "UTC")
    return names


def parse_timezone(value) -> str:
    """An IANA zone name as the store keeps it (``America/New_York``); empty means UTC."""
    text = (str(value) if value is not None else "").strip()
    if not text:
        return DEFAULT_ZONE
    name = _names().get(text.casefold())
    if name is None:
        raise TimeZoneError(f"Unknown time zone {text!r}: use an IANA name such as "
                            "America/New_York, Europe/Paris or UTC.")
    return name


@lru_cache(maxsize=256)
def store_zone(name: str | None) -> ZoneInfo:
    """The zone called *name*; UTC for an empty or unknown one (a zone dropped from tzdata)."""
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def format_when(value: datetime, zone: tzinfo, locale: str) -> str:
    """*value* (naive: UTC) as date, clock time and zone name in *zone*, written in *locale*."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    local = value.astimezone(zone)
    return (f"{_date_and_clock(local.date(), local.hour, local.minute, locale)} "
            f"{zone_name(local, locale)}")


@lru_cache(maxsize=32)
def _patterns(locale: str) -> tuple[Locale, str, dates.DateTimePattern, dates.DateTimePattern]:
    # Parsed once per language: babel's format_date and format_time would parse the
    # locale and the pattern again at every call, and most orders' times are distinct.
    parsed = Locale.parse(locale)
    return (parsed, str(dates.get_datetime_format("medium", locale=parsed)),  # "{1}, {0}"
            dates.parse_pattern(dates.get_date_format("medium", locale=parsed)),
            dates.parse_pattern(dates.get_time_format("short", locale=parsed)))


def _date_and_clock(day: date, hour: int, minute: int, locale: str) -> str:
    # Formatted apart, each part is cached: orders' moments are nearly all distinct, but
    # their days and their clock times (1,440 a language) repeat from page to page.
    return _patterns(locale)[1].format(_clock(hour, minute, locale), _day(day, locale))


@lru_cache(maxsize=8192)
def _day(day: date, locale: str) -> str:
    parsed, _joined, date_pattern, _time_pattern = _patterns(locale)
    return date_pattern.apply(day, parsed)


@lru_cache(maxsize=8192)
def _clock(hour: int, minute: int, locale: str) -> str:
    parsed, _joined, _date_pattern, time_pattern = _patterns(locale)
    return time_pattern.apply(time(hour, minute), parsed)


_ZONE_NAMES: dict[tuple, str] = {}


def zone_name(local: datetime, locale: str) -> str:
    """The short name of *local*'s zone at that moment (``EST``, ``MESZ``, ``GMT-03:00``)."""
    key = (str(local.tzinfo), local.tzname(), local.utcoffset(), locale)
    name = _ZONE_NAMES.get(key)
    if name is None:
        abbreviation = local.tzname() or ""
        name = dates.get_timezone_name(local, "short", locale=locale)
        if abbreviation == "UTC":
            name = "UTC"  # understood everywhere (French CLDR's "TU" is not)
        elif name[:1] in "+-" or name[:1].isdigit():
            # No short name in this language: the zone database's own when it is a word
            # (EST, BST, IST), else the offset as the language writes it (GMT-03:00).
            name = (abbreviation if abbreviation.isalpha()
                    else dates.get_timezone_gmt(local, "long", locale=locale))
        if len(_ZONE_NAMES) < 4096:  # bounded: zones x languages x DST is small anyway
            _ZONE_NAMES[key] = name
    return name
