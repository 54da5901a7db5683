"""The store and the order as the shopper's view reads them (:mod:`.shopper`, :mod:`.labels`).

Two kinds of object are read: the ORM models (``models.Store``, ``models.Order``) and the
rows the shop reads for its pages (``storage.shop_pages.ShopStore``, ``ShopperOrder``).
The services read attributes only, so they take any object that has the ones below.
Read-only properties, as the rows are tuples. The order's shown fields of
``models.order_fields`` are read by name from that list, so they are not repeated here.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Protocol


class LabelledStore(Protocol):
    """A store as its labels are worded, hidden and staged."""

    @property
    def label_map(self) -> dict: ...


class ShownStore(LabelledStore, Protocol):
    """A store as the shopper sees it: branding, support contact and its carriers."""

    @property
    def name(self) -> str: ...
    @property
    def slug(self) -> str: ...
    @property
    def support_email(self) -> str | None: ...
    @property
    def support_phone(self) -> str | None: ...
    @property
    def support_url(self) -> str | None: ...
    @property
    def logo_url(self) -> str | None: ...
    @property
    def accent_color(self) -> str | None: ...
    @property
    def carrier_rules(self) -> list: ...


class ShownChange(Protocol):
    """One status change in the order's history (of the order, or of one of its lines)."""

    @property
    def id(self) -> int | None: ...  # None until the change is flushed
    @property
    def line_id(self) -> str | None: ...
    @property
    def to_status(self) -> str: ...
    @property
    def occurred_at(self) -> datetime: ...


class LabelledOrder(Protocol):
    """An order as its visible status is found: its status, else its history's."""

    @property
    def status(self) -> str: ...
    @property
    def history(self) -> Sequence[ShownChange]: ...


class ShownItem(Protocol):
    @property
    def line_id(self) -> str: ...
    @property
    def sku(self) -> str | None: ...
    @property
    def name(self) -> str | None: ...
    @property
    def qty_ordered(self) -> int: ...
    @property
    def qty_shipped(self) -> int: ...
    @property
    def qty_needed(self) -> int: ...
    @property
    def status(self) -> str | None: ...
    @property
    def expected_ship_date(self) -> date | None: ...
    @property
    def actual_ship_date(self) -> date | None: ...


class ShownTracking(Protocol):
    @property
    def number(self) -> str: ...
    @property
    def carrier(self) -> str | None: ...
    @property
    def shipped_on(self) -> date | None: ...


class ShownOrder(LabelledOrder, Protocol):
    """An order as the shopper sees it, besides its shown fields: lines, tracking, time."""

    @property
    def items(self) -> Sequence[ShownItem]: ...
    @property
    def tracking(self) -> Sequence[ShownTracking]: ...
    @property
    def updated_at(self) -> datetime: ...
