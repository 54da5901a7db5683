"""The progress tracker of a status page: where the order is on its journey, step by step.

The main path is Received → Processing → Shipped. An order held up (backordered, on
hold) shows that stage in place of Processing, between the step it has passed and the
one it waits for; a canceled order's journey ends after Received with Canceled.
"""
from __future__ import annotations

from .standard_labels import MAIN_PATH, stage_name


def tracker(stage: str, locale: str) -> list[dict]:
    """The steps to show for an order at *stage*, named in *locale*.

    Each step: ``stage``, ``name``, ``state`` (``done``, ``current`` or ``upcoming``) and
    ``exception`` (true for a stage off the main path).
    """
    if stage in MAIN_PATH:
        at = MAIN_PATH.index(stage)
        path = [(step, "done" if index < at else "current" if index == at else "upcoming")
                for index, step in enumerate(MAIN_PATH)]
    elif stage == "canceled":
        path = [("received", "done"), ("canceled", "current")]
    else:
        path = [("received", "done"), (stage, "current"), ("shipped", "upcoming")]
    return [{"stage": step, "name": stage_name(step, locale), "state": state,
             "exception": step not in MAIN_PATH} for step, state in path]
