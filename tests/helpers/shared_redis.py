"""The real Redis on 127.0.0.1:6379 for tests of the shared-state code paths.

``TEST_REDIS_URL`` (default database 9, never the installation's 0) and a key prefix of
the test's own, whose keys are deleted afterwards. A test needing Redis is skipped only
when Redis cannot be reached and the run is not CI's (``ISOCERT_CI``, set by
``.ci/run``): in CI a missing Redis fails.
"""

import os
import uuid

import pytest
import redis

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/9")


def reachable_redis(url: str = TEST_REDIS_URL) -> redis.Redis:
    """A client of the test Redis, or a skip (a failure in CI) when it does not answer."""
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        if os.environ.get("ISOCERT_CI"):
            pytest.fail(f"Redis at {url} is needed in CI and does not answer: {exc}")
        pytest.skip(f"Redis at {url} does not answer: {exc}")
    return client


def new_prefix() -> str:
    return f"isocert-test-{uuid.uuid4().hex[:12]}"


def delete_prefixed(client: redis.Redis, prefix: str) -> None:
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
