"""Failed-lookup limits: per order number as typed, per client IP, shared by all workers."""
from __future__ import annotations

import threading
import time
import uuid

import pytest

from oss_server.services.limits import LookupLimiter
from oss_server.services.lockout import Limit, Locked, ip_bucket, parse_limits, retry_after
from oss_server.storage.lookup_counters import DatabaseCounters
from oss_server.storage.redis_counters import RedisCounters

from ..redis_server import redis_url_or_skip


def test_parse_flask_limiter_notation():
    assert parse_limits("5 per 15 minutes; 20 per day") == [Limit(5, 900), Limit(20, 86400)]
    assert parse_limits("10 per 15 minutes") == [Limit(10, 900)]
    assert parse_limits("3/hour, 7 per 2 hours") == [Limit(3, 3600), Limit(7, 7200)]
    with pytest.raises(ValueError):
        parse_limits("")


def test_a_reached_limit_locks_for_its_whole_period():
    rules = [Limit(5, 900), Limit(20, 86400)]
    assert retry_after([], rules, 500) == 0
    assert retry_after([100, 200, 300, 400], rules, 500) == 0
    # Five failures spread over 400 s lock for 15 minutes from the fifth, not until the
    # first of them is 15 minutes old.
    assert retry_after([100, 200, 300, 400, 500], rules, 600) == 500 + 900 - 600
    assert retry_after([100, 200, 300, 400, 500], rules, 1001) == 399
    assert retry_after([100, 200, 300, 400, 500], rules, 1400) == 0
    # After the lock, counting starts afresh: one more failure does not lock again.
    assert retry_after([100, 200, 300, 400, 500, 1500], rules, 1501) == 0
    # The twentieth failure of a day, however spread, locks for 24 hours from it.
    spread = [i * 1000.0 for i in range(20)]
    assert retry_after(spread, rules, 20_000) == 19_000 + 86400 - 20_000


def test_ipv6_counts_per_64_and_mapped_ipv4_as_ipv4():
    assert ip_bucket("2001:db8:1:2:aaaa::1") == ip_bucket("2001:db8:1:2:bbbb::2")
    assert ip_bucket("2001:db8:1:2::1") != ip_bucket("2001:db8:1:3::1")
    assert ip_bucket("::ffff:192.0.2.7") == ip_bucket("192.0.2.7")


def test_sixth_failure_is_refused_even_with_the_right_verifier(shopper, order):
    for attempt in range(5):
        assert shopper.lookup("acme", "1001", f"9000{attempt}").status_code == 200
    response = shopper.lookup("acme", "1001", "10001")
    assert response.status_code == 429
    assert 800 <= int(response.headers["Retry-After"]) <= 900
    assert "Too many attempts. Please wait 15 minutes" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"


def test_the_number_counts_as_typed_whether_or_not_it_exists(shopper, order):
    for attempt in range(5):
        shopper.lookup("acme", " NOPE-1 " if attempt % 2 else "nope-1", "10001")
    assert shopper.lookup("acme", "Nope-1", "10001").status_code == 429
    # Another number in the same store is not locked by it.
    assert shopper.lookup("acme", "1001", "10001").status_code == 303


def test_successes_do_not_count(shopper, order):
    for _ in range(8):
        assert shopper.lookup("acme", "1001", "10001").status_code == 303
    for attempt in range(4):
        assert shopper.lookup("acme", "1001", f"9000{attempt}").status_code == 200
    assert shopper.lookup("acme", "1001", "10001").status_code == 303


def test_per_ip_limit_spans_numbers_and_stores(shopper, store, make_store, order):
    make_store(slug="second")
    for attempt in range(10):
        slug = "acme" if attempt % 2 else "second"
        assert shopper.lookup(slug, f"guess-{attempt}", "10001").status_code == 200
    locked = shopper.lookup("acme", "1001", "10001")
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0


def test_per_ip_limit_is_per_address(app, store, order):
    from tests.shop.conftest import Shopper

    def lookup_from(address, number):
        shopper = Shopper(app.test_client())
        shopper.client.environ_base["REMOTE_ADDR"] = address
        # A fresh app context per shopper, as each real request would have.
        with app.app_context():
            return shopper.lookup("acme", number, "10001")

    for attempt in range(10):
        assert lookup_from("198.51.100.1", f"guess-{attempt}").status_code == 200
    assert lookup_from("198.51.100.1", "1001").status_code == 429
    assert lookup_from("198.51.100.2", "1001").status_code == 303


@pytest.fixture
def db_limiter(app):
    from oss_server.extensions import db

    counters = DatabaseCounters(db.engine)
    yield counters
    counters.clear()
    if counters.engine is not db.engine:
        counters.engine.dispose()


def _limiter(counters, clock):
    return LookupLimiter(counters, [Limit(5, 900), Limit(20, 86400)], [Limit(10, 900)],
                         clock=lambda: clock[0])


def test_database_window_moves_and_daily_limit_holds(db_limiter):
    clock = [1_000_000.0]
    limiter = _limiter(db_limiter, clock)
    for day_round in range(4):
        for n in range(5):
            clock[0] += 1
            limiter.reserve(1, "A-1", f"203.0.113.{day_round * 5 + n}")
        clock[0] += 1
        with pytest.raises(Locked) as locked:
            limiter.reserve(1, "A-1", "203.0.113.250")
        if day_round < 3:
            assert 890 <= locked.value.retry_after <= 900  # 5 in 15 minutes
            clock[0] += 900
    # The 20th failure of the day locks for the rest of the 24 hours, not 15 minutes.
    assert locked.value.retry_after > 80_000


def test_released_reservations_are_not_failures(db_limiter):
    clock = [2_000_000.0]
    limiter = _limiter(db_limiter, clock)
    for _ in range(12):
        clock[0] += 1
        limiter.release(limiter.reserve(7, "B-1", "203.0.113.9"))
    limiter.reserve(7, "B-1", "203.0.113.9")


def test_a_check_that_fails_half_way_still_counts(db_limiter):
    """An error inside the lookup is no free guess: its attempt is counted all the same."""
    clock = [5_000_000.0]
    limiter = _limiter(db_limiter, clock)

    def broken(conn):
        raise RuntimeError("the lookup failed half-way")

    for n in range(5):
        clock[0] += 1
        with pytest.raises(RuntimeError):
            limiter.attempt(1, "H-1", f"203.0.113.{n}", broken)
    with pytest.raises(Locked):
        limiter.attempt(1, "H-1", "203.0.113.99", lambda conn: True)


def test_concurrent_guesses_never_pass_the_limit(db_limiter):
    """Guesses racing on one number: only as many are checked as the limit allows."""
    limiter = _limiter(db_limiter, [6_000_000.0])
    checked, refused = [], []
    start = threading.Barrier(12)

    def guess(n):
        start.wait()
        try:
            # Slow enough that the others arrive while this one is being checked.
            limiter.attempt(1, "C-1", f"203.0.113.{n}",
                            lambda conn: checked.append(n) or time.sleep(0.02))
        except Locked:
            refused.append(n)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(checked) == 5 and len(refused) == 7


@pytest.fixture
def redis_counters():
    counters = RedisCounters(redis_url_or_skip(), prefix=f"oss-test:{uuid.uuid4().hex}:")
    yield counters
    counters.clear()


def test_redis_counters_lock_release_and_move(redis_counters):
    clock = [3_000_000.0]
    limiter = _limiter(redis_counters, clock)
    limiter.release(limiter.reserve(1, "R-1", "203.0.113.1"))
    for _ in range(5):
        clock[0] += 1
        limiter.reserve(1, "R-1", "203.0.113.1")
    with pytest.raises(Locked) as locked:
        limiter.reserve(1, "R-1", "203.0.113.2")
    assert 890 <= locked.value.retry_after <= 900
    clock[0] += 900
    limiter.reserve(1, "R-1", "203.0.113.2")


@pytest.mark.parametrize("counters", ["db_limiter", "redis_counters"])
def test_spread_failures_lock_for_the_whole_period(request, counters):
    """Five failures over 14 minutes lock that number for 15 minutes from the fifth."""
    clock = [4_000_000.0]
    limiter = _limiter(request.getfixturevalue(counters), clock)
    for n in range(5):
        limiter.reserve(1, "S-1", f"203.0.113.{n}")
        clock[0] += 210  # 4 × 210 s = 14 minutes between the first and the fifth
    with pytest.raises(Locked) as locked:
        limiter.reserve(1, "S-1", "203.0.113.100")
    assert locked.value.retry_after == 900 - 210
    clock[0] += 600  # 15 minutes after the first: a moving window would have let this in
    with pytest.raises(Locked):
        limiter.reserve(1, "S-1", "203.0.113.101")
    clock[0] += 90
    limiter.reserve(1, "S-1", "203.0.113.102")


class TestRedisBackedApp:
    @pytest.fixture
    def app_config(self):
        return {"OSS_RATELIMIT_STORAGE_URI": redis_url_or_skip(),
                "OSS_LOOKUP_KEY_PREFIX": f"oss-test:{uuid.uuid4().hex}:"}

    def test_sixth_failure_is_refused_with_redis(self, app, shopper, order):
        from oss_server.shop.context import lookup_limiter

        with app.test_request_context():
            limiter = lookup_limiter()
        assert isinstance(limiter.counters, RedisCounters)
        try:
            for attempt in range(5):
                assert shopper.lookup("acme", "1001", f"9000{attempt}").status_code == 200
            assert shopper.lookup("acme", "1001", "10001").status_code == 429
        finally:
            limiter.counters.clear()

    def test_tallies_are_committed_with_redis(self, app, shopper, store, order):
        from oss_server.shop.context import lookup_limiter

        with app.test_request_context():
            limiter = lookup_limiter()
        try:
            assert shopper.lookup("acme", "1001", "10001").status_code == 303
            assert shopper.lookup("acme", "1001", "90000").status_code == 200
            assert _committed_tally(store) == (1, 1, 0)
        finally:
            limiter.counters.clear()


def _committed_tally(store) -> tuple:
    """The store's tallies as another connection sees them: only what was committed."""
    from sqlalchemy import select

    from oss_server.extensions import db
    from oss_server.models import LookupStat

    table = LookupStat.__table__
    with db.engine.connect() as conn:
        rows = conn.execute(select(table.c.found, table.c.not_found, table.c.limited)
                            .where(table.c.store_id == store.id)).all()
    return tuple(sum(row[n] for row in rows) for n in range(3))


def test_every_outcome_is_committed(shopper, store, order):
    """Database counters: the lookup writes on the limiter's transaction, a refusal on the
    request's session; both reach the database."""
    assert shopper.lookup("acme", "1001", "10001").status_code == 303
    for attempt in range(5):
        assert shopper.lookup("acme", "1001", f"9000{attempt}").status_code == 200
    assert shopper.lookup("acme", "1001", "10001").status_code == 429
    assert _committed_tally(store) == (1, 5, 1)


class TestConfiguredLimits:
    @pytest.fixture
    def app_config(self):
        return {"OSS_LOOKUP_LIMIT_PER_ORDER": "2 per hour", "OSS_LOOKUP_LIMIT_PER_IP": "3 per hour"}

    def test_settings_override_the_defaults(self, shopper, order):
        shopper.lookup("acme", "1001", "90000")
        shopper.lookup("acme", "1001", "90001")
        response = shopper.lookup("acme", "1001", "10001")
        assert response.status_code == 429
        assert 3500 <= int(response.headers["Retry-After"]) <= 3600
        shopper.lookup("acme", "2002", "90000")
        assert shopper.lookup("acme", "3003", "10001").status_code == 429  # third IP failure


@pytest.fixture(params=["Etc/GMT-14", "Etc/GMT+12"])
def far_timezone(request, monkeypatch):
    """Run with the process's local time 14 hours ahead of UTC, or 12 behind.

    At any hour one of the two has another date than UTC, so a tally kept under the
    local date would land on a day the portal's (UTC) chart does not show.
    """
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


def test_lookup_tallies_per_store_and_utc_day(shopper, session, store, order, far_timezone):
    from datetime import datetime, timezone

    from oss_server.services.lookup_stats import daily_lookup_stats

    shopper.lookup("acme", "1001", "10001")
    for attempt in range(6):
        shopper.lookup("acme", "1001", f"9000{attempt}")
    today = datetime.now(timezone.utc).date()
    rows = daily_lookup_stats(session, store, today, days=7)
    assert len(rows) == 7 and rows[-1]["day"] == today
    assert (rows[-1]["found"], rows[-1]["not_found"], rows[-1]["limited"]) == (1, 5, 1)
    assert rows[0]["found"] == 0


def test_lookup_bookkeeping_skips_the_flush_and_leaves_other_writes_durable(db_limiter):
    """Counts commit without waiting for the disk; ingestion's connections still do."""
    from oss_server.extensions import db

    sqlite_file = db_limiter.engine.dialect.name == "sqlite"

    def level(raw, name="synchronous"):
        cursor = raw.cursor()
        cursor.execute(f"PRAGMA {name}" if sqlite_file else "SHOW synchronous_commit")
        return cursor.fetchone()[0]

    limiter = _limiter(db_limiter, [7_000_000.0])
    seen, raws = [], []

    def check(conn):
        seen.append(level(conn.connection.dbapi_connection))
        return True

    def broken(conn):
        raws.append(conn.connection.dbapi_connection)
        raise RuntimeError("a lookup failing half-way")

    limiter.attempt(1, "D-1", "203.0.113.1", check)
    assert seen in ([1], ["off"])  # NORMAL on SQLite, off on PostgreSQL
    with pytest.raises(RuntimeError):
        limiter.attempt(1, "D-1", "203.0.113.1", broken)
    if sqlite_file:
        # The bookkeeping's own connections: relaxed for good, and set up as the app's.
        raw = raws[0]
        assert [level(raw, name) for name in ("synchronous", "busy_timeout", "foreign_keys",
                                              "journal_mode")] == [1, 10000, 1, "wal"]
    else:
        after = level(raws[0])
        raws[0].rollback()  # the connection sits in the pool: leave no transaction open
        assert after == "on"  # the setting ended with its transaction
    # The app's connections, which ingestion commits on, wait for the disk as before.
    with db.engine.connect() as conn:
        assert level(conn.connection.dbapi_connection) in (2, "on")
