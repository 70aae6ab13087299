"""The store every server process shares when ``REDIS_URL`` is set.

Several app servers (and the task worker) keep three things in Redis instead of in each
process's memory: the public registry's rate-limit windows, the lookup counters waiting to
be written to the database, and the version of the directory's cached searches. Each is
one key or hash under ``REDIS_KEY_PREFIX`` (``shared_key``), changed with Redis's own
atomic commands (``INCR``, ``HINCRBY``, ``RENAME``, ``SET NX``), so no two processes can
count the same request twice or flush the same counts twice.

Without ``REDIS_URL`` ``shared_redis()`` is ``None`` and the callers keep their state in
the process (one server). A Redis that stops answering raises ``redis.RedisError`` to the
caller, which falls back to its in-process state rather than failing a public request, and
reports it (``shared_redis_failed``): for ``REST_SECONDS`` the per-request callers then
leave Redis alone (``shared_redis_resting``), so a Redis that times out does not add its
timeout to every request, and the warning is logged once per rest, not once per request.
"""

import logging
import threading
import time

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

# Seconds to wait for Redis: a public request must not hang on a lost connection.
SOCKET_TIMEOUT = 2.0
# After a failure, per-request callers try Redis again this many seconds later.
REST_SECONDS = 5.0
_resting_until = 0.0

_clients: dict[str, redis.Redis] = {}
_lock = threading.Lock()


def shared_redis() -> redis.Redis | None:
    """This process's client of ``REDIS_URL`` (a connection pool, safe across threads and
    re-made after a fork by redis-py itself), or ``None`` when no Redis is configured."""
    url = settings.REDIS_URL
    if not url:
        return None
    client = _clients.get(url)
    if client is None:
        with _lock:
            client = _clients.get(url)
            if client is None:
                client = _clients[url] = redis.Redis.from_url(
                    url, socket_timeout=SOCKET_TIMEOUT, socket_connect_timeout=SOCKET_TIMEOUT,
                    health_check_interval=30)
    return client


def shared_key(*parts) -> str:
    """A key under this installation's ``REDIS_KEY_PREFIX``: ``isocert:lookups``."""
    return ":".join([settings.REDIS_KEY_PREFIX, *(str(p) for p in parts)])


def shared_redis_resting() -> bool:
    """True for ``REST_SECONDS`` after Redis last failed in this process."""
    return time.monotonic() < _resting_until


def shared_redis_failed(consequence: str) -> None:
    """Redis did not answer: rest from it, and log ``consequence`` (what this process does
    instead) unless a failure was already logged during the current rest."""
    global _resting_until
    if not shared_redis_resting():
        logger.warning("Redis (REDIS_URL) did not answer: %s", consequence, exc_info=True)
    _resting_until = time.monotonic() + REST_SECONDS

