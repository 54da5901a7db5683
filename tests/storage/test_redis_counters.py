"""The Redis counters' Lua script applies the one lockout rule (services/lockout.py)."""
from __future__ import annotations

import random
import uuid

import pytest

from oss_server.services.lockout import Limit, Locked, hashed, retry_after
from oss_server.storage.redis_counters import RedisCounters
from tests.redis_server import redis_url_or_skip

RULES = [[Limit(5, 900), Limit(20, 86400)], [Limit(10, 900)], [Limit(3, 60), Limit(4, 600)]]


@pytest.fixture
def counters():
    counters = RedisCounters(redis_url_or_skip(), prefix=f"oss-test:{uuid.uuid4().hex}:")
    yield counters
    counters.clear()


def test_the_script_locks_exactly_when_retry_after_says(counters):
    """Random failure histories: the script refuses when, and as long as, the rule says."""
    chance = random.Random(19)
    for case in range(150):
        rules = RULES[case % len(RULES)]
        now = 10_000_000.0 + case * 100_000
        longest = max(rule.period for rule in rules)
        stamps = sorted(now - chance.uniform(0, longest) for _ in range(chance.randint(0, 24)))
        bucket = f"order:1:case-{case}"
        key = counters.prefix + hashed(bucket)
        if stamps:
            counters.client.zadd(key, {f"{t:.6f}:seed{i}": t for i, t in enumerate(stamps)})
        expected = retry_after(stamps, rules, now)
        if expected > 0:
            with pytest.raises(Locked) as locked:
                counters.reserve({bucket: rules}, now)
            assert locked.value.retry_after == Locked(expected).retry_after, (stamps, rules)
            assert counters.client.zcard(key) == len(stamps)  # nothing counted while locked
        else:
            counters.reserve({bucket: rules}, now)
            assert counters.client.zcard(key) == len(stamps) + 1

