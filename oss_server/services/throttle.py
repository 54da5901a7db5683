"""Sign-in throttling per account and per client address, kept in the database.

The counters live in a table, not in process memory, so the limits hold across every
worker process and server. Unknown emails are counted exactly like real accounts, so a
delay confirms nothing about whether an account exists.

Every attempt is counted as a failure *before* its secret is checked (:func:`begin_attempt`),
in one transaction that holds the counters from the check of the wait to the count:
``BEGIN IMMEDIATE`` on SQLite, row locks on PostgreSQL (see :mod:`..storage.locking`). A burst of
concurrent attempts therefore gets no more checks than the same attempts one after the
other. An attempt that then succeeds settles its count (:func:`succeeded`).
"""
from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.engine import Connection, Engine

from ..models import LoginThrottle, utcnow
from ..storage import DbSession
from ..storage.locking import write_locked
from ..storage.throttle_counters import State, counter_engine, lock_counters, store_counters


@dataclass(frozen=True)
class Policy:
    """How failures of one kind of key turn into waiting time."""

    free_failures: int      # failures allowed before any delay
    window: timedelta       # counters start afresh once this has passed since the first failure
    exponential: bool       # account: 1 s, 2 s, 4 s … capped; address: locked to the window's end
    max_delay: timedelta = timedelta(minutes=15)


ACCOUNT = Policy(free_failures=5, window=timedelta(hours=24), exponential=True)
ADDRESS = Policy(free_failures=30, window=timedelta(minutes=15), exponential=False)
# Password-reset requests per hour. A counter locks once it passes free_failures, and the
# request that locks it is refused: so the allowance plus one.
RESET_EMAILS_PER_ACCOUNT = 3
RESET_REQUESTS_PER_ADDRESS = 20
RESET_PER_ACCOUNT = Policy(free_failures=RESET_EMAILS_PER_ACCOUNT + 1,
                           window=timedelta(hours=1), exponential=False)
RESET_PER_ADDRESS = Policy(free_failures=RESET_REQUESTS_PER_ADDRESS + 1,
                           window=timedelta(hours=1), exponential=False)
# Sign-ups per client address and hour (counted like reset requests).
SIGNUPS_PER_ADDRESS = 10
SIGNUP_PER_ADDRESS = Policy(free_failures=SIGNUPS_PER_ADDRESS + 1,
                            window=timedelta(hours=1), exponential=False)
_POLICIES = (ACCOUNT, ADDRESS, RESET_PER_ACCOUNT, RESET_PER_ADDRESS, SIGNUP_PER_ADDRESS)


def account_key(email: str) -> str:
    """Key of the per-account counter: the email as typed, trimmed and lower-cased."""
    return "account:" + email.strip().lower()[:280]


def address_key(address: str | None) -> str:
    """Key of the per-address counter."""
    return "ip:" + (address or "unknown")[:200]


def reset_keys(email: str, address: str | None) -> tuple[str, str]:
    """Keys of the password-reset counters: apart from sign-in failures."""
    return "reset:" + account_key(email), "reset:" + address_key(address)


def signup_key(address: str | None) -> str:
    """Key of the sign-up counter of one client address."""
    return "signup:" + address_key(address)


@dataclass
class Held:
    """An attempt already counted as a failure; :func:`succeeded` settles it if it was not.

    ``wait_seconds`` > 0: the attempt was refused (a key is locked) and nothing was counted.
    """

    counted: dict[str, Policy] = field(default_factory=dict)
    wait_seconds: int = 0


def begin_attempt(session: DbSession, counted: dict[str, Policy],
                  now: datetime | None = None) -> Held:
    """Count one failure on every key of *counted*, unless one of them is locked.

    Check and count are one locked transaction, committed before the caller checks the
    secret: concurrent attempts on the same key wait for it and then see it counted.
    """
    now = now or utcnow()
    with _counter_transaction(session) as conn:
        states = lock_counters(conn, counted, now)
        wait = _wait(states.values(), now)
        if wait:
            return Held(wait_seconds=wait)
        store_counters(conn, {key: _after_failure(states[key], policy, now)
                      for key, policy in counted.items()})
    return Held(dict(counted))


def succeeded(session: DbSession, held: Held, clear_keys: tuple[str, ...] = ()) -> None:
    """Settle an attempt that succeeded: *clear_keys* start afresh, its other counts are undone.

    Runs in the request's transaction and commits with it.
    """
    for key in clear_keys:
        clear(session, key)
    table = LoginThrottle.__table__
    for key, policy in held.counted.items():
        if key in clear_keys:
            continue
        # Only a lock this count could have made is lifted: one the failures still reach stays.
        session.execute(update(table).where(table.c.key == key, table.c.failures > 0).values(
            failures=table.c.failures - 1,
            locked_until=case((table.c.failures - 1 < policy.free_failures, None),
                              else_=table.c.locked_until)))
    session.flush()


def count_reset_request(session: DbSession, email: str, address: str | None) -> tuple[int, int]:
    """Count one reset request; return the (account, address) waits it ran into (0: none)."""
    account, ip = reset_keys(email, address)
    waits = count_requests(session, {account: RESET_PER_ACCOUNT, ip: RESET_PER_ADDRESS})
    return waits[account], waits[ip]


def count_requests(session: DbSession, counted: dict[str, Policy],
                   now: datetime | None = None) -> dict[str, int]:
    """Count one request on every key, locked or not; return each key's wait afterwards.

    For limits on requests rather than failures (reset emails, sign-ups): a request that
    brings a key to its limit is refused, so the allowance is ``free_failures - 1``.
    """
    now = now or utcnow()
    with _counter_transaction(session) as conn:
        states = lock_counters(conn, counted, now)
        after = {key: _after_failure(states[key], policy, now) for key, policy in counted.items()}
        store_counters(conn, after)
    return {key: _wait([state], now) for key, state in after.items()}


def record_failure(session: DbSession, key: str, policy: Policy,
                   now: datetime | None = None) -> None:
    """Count one failure against *key*, locked or not, and lock it when the policy says so."""
    count_requests(session, {key: policy}, now)


def forget_account(session: DbSession, email: str) -> None:
    """Erase the counters kept under an account's email (it is personal data)."""
    keys = [account_key(email), reset_keys(email, None)[0]]
    session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(keys)))


def wait_seconds(session: DbSession, keys: list[str], now: datetime | None = None) -> int:
    """Return how long the caller must wait before trying again (0: go ahead)."""
    now = now or utcnow()
    rows = session.execute(select(LoginThrottle.failures, LoginThrottle.window_start,
                                  LoginThrottle.locked_until)
                           .where(LoginThrottle.key.in_(keys)))
    return _wait([tuple(row) for row in rows], now)


def clear(session: DbSession, key: str) -> None:
    """Forget the failures of *key* (after a successful sign-in or password reset)."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == key))
    session.flush()


# A counter's state: (failures, window start, locked until).
_State = State


def _after_failure(state: _State | None, policy: Policy, now: datetime) -> _State:
    failures, start, locked = state or (0, now, None)
    if now - start > policy.window:
        failures, start, locked = 0, now, None
    failures += 1
    over = failures - policy.free_failures
    if over >= 0 and policy.exponential:
        locked = now + min(timedelta(seconds=2 ** min(over, 20)), policy.max_delay)
    elif over >= 0:
        locked = start + policy.window
    return failures, start, locked


def _wait(states, now: datetime) -> int:
    waits = [(state[2] - now).total_seconds() for state in states
             if state is not None and state[2] is not None and state[2] > now]
    return math.ceil(max(waits, default=0))


@contextmanager
def _counter_transaction(session: DbSession) -> Iterator[Connection]:
    """A locked transaction for the counters, committed on its own."""
    engine = counter_engine(session)
    with engine.connect() as conn, write_locked(conn):
        yield conn
    _maybe_prune(engine)


# Counters whose window is over and that hold no lock say nothing any more: the next
# failure would start them afresh. Forgotten at most this often per process (their keys
# name emails and addresses typed, which are not kept longer than they are needed).
PRUNE_EVERY_S = 60.0
_pruned_at = [float("-inf")]


def _maybe_prune(engine: Engine) -> None:
    clock = time.monotonic()
    if clock - _pruned_at[0] < PRUNE_EVERY_S:
        return
    _pruned_at[0] = clock
    now = utcnow()
    longest = max(policy.window for policy in _POLICIES)
    table = LoginThrottle.__table__
    with engine.begin() as conn:
        conn.execute(delete(table).where(
            table.c.window_start < now - longest,
            or_(table.c.locked_until.is_(None), table.c.locked_until < now)))
