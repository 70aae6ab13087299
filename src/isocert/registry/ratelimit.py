"""The public registry's rate limit: one budget per client address (``PUBLIC_API_RATE``)
shared by the verification and the directory — the API operations and the pages
``/verify/…`` and ``/directory/`` alike, so a scraper gains nothing by switching between
them.

With ``REDIS_URL`` every server process counts in Redis: one key per client and window,
raised by ``INCR`` and expiring with its window, so N requests pass across all servers
together. Without it the count is kept in this process's memory (a database write per
request would cap the throughput the verification service needs), and the limit holds per
server process (a client spreading over N workers gets up to N × the rate).
``PublicRateThrottle.hit`` is the one place that counts.
"""

import math
import threading
import time

import redis
from django.conf import settings
from ninja.throttling import BaseThrottle

from isocert.core.client_address import client_address
from isocert.core.shared_store import (
    shared_key,
    shared_redis,
    shared_redis_failed,
    shared_redis_resting,
)


class PublicRateThrottle(BaseThrottle):
    """A fixed-window count per client address, in Redis or in this process's memory.

    django-ninja's own throttles keep a list of request times per client in a cache and
    write it back on each request, which grows with the rate; here a dict of counters for
    the current window (dropped when the next window starts) costs the same at any rate.
    The address is ``core.client_address``'s (``TRUSTED_PROXY_COUNT``).
    The rate is read from ``settings.PUBLIC_API_RATE`` on each request, so tests and
    operators can change it without a restart of the code that created the throttle.
    """

    _PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60,
                "h": 3600, "hour": 3600, "d": 86400, "day": 86400}

    def __init__(self):
        self._parsed: tuple[str, int, int] | None = None
        self._lock = threading.Lock()
        self._window: tuple[int, int] | None = None  # (seconds, number) being counted
        self._counts: dict[str | None, int] = {}
        self._wait: float | None = None

    def rate(self) -> tuple[int, int]:
        raw = settings.PUBLIC_API_RATE
        parsed = self._parsed
        if parsed is None or parsed[0] != raw:
            count, _, period = raw.partition("/")
            try:
                seconds = self._PERIODS[period.strip().lower()]
                parsed = (raw, int(count), seconds)
            except (KeyError, ValueError):
                raise ValueError(f"PUBLIC_API_RATE must look like 120/min, not {raw!r}")
            self._parsed = parsed
        return parsed[1], parsed[2]

    def get_ident(self, request):
        return client_address(request)

    def hit(self, ident) -> float | None:
        """Count one request of the client ``ident``: ``None`` while it is within the rate,
        else the seconds until its window ends."""
        limit, seconds = self.rate()
        now = time.time()
        window = (seconds, int(now // seconds))
        used = self._shared_hit(ident, window)
        if used is None:
            with self._lock:
                if window != self._window:
                    self._window, self._counts = window, {}
                used = self._counts[ident] = self._counts.get(ident, 0) + 1
        if used > limit:
            return (window[1] + 1) * seconds - now
        return None

    @staticmethod
    def _shared_hit(ident, window: tuple[int, int]) -> int | None:
        """This request's number in the client's window, counted in Redis (``INCR`` and an
        expiry at the window's end in one transaction); ``None`` without Redis or when it
        does not answer (then this process counts alone: verification keeps working)."""
        client = shared_redis()
        if client is None or shared_redis_resting():
            return None
        seconds, number = window
        key = shared_key("ratelimit", seconds, number, ident or "-")
        try:
            pipe = client.pipeline(transaction=True)
            pipe.incr(key)
            pipe.expireat(key, (number + 1) * seconds + 1)
            return int(pipe.execute()[0])
        except redis.RedisError:
            shared_redis_failed("the public rate limit counts per process")
            return None

    def allow_request(self, request) -> bool:
        """django-ninja's throttle interface (the directory operation)."""
        wait = self.hit(self.get_ident(request))
        if wait is not None:
            self._wait = wait
        return wait is None

    def reset(self) -> None:
        """Forget every count, in this process and in Redis (tests)."""
        with self._lock:
            self._window, self._counts = None, {}
        client = shared_redis()
        if client is not None:
            keys = list(client.scan_iter(match=shared_key("ratelimit", "*"), count=1000))
            if keys:
                client.delete(*keys)

    def wait(self) -> float | None:
        return self._wait


PUBLIC_THROTTLE = PublicRateThrottle()


def public_rate_limited(request) -> int | None:
    """Count ``request`` against its client's public budget: ``None`` when it may be
    answered, else the whole seconds to wait (for ``Retry-After``)."""
    wait = PUBLIC_THROTTLE.hit(PUBLIC_THROTTLE.get_ident(request))
    return None if wait is None else max(1, math.ceil(wait))
