"""The public registry's rate limit: one budget per client address (``PUBLIC_API_RATE``)
shared by the verification and the directory — the API operations and the pages
``/verify/…`` and ``/directory/`` alike, so a scraper gains nothing by switching between
them.

Counted in this process's memory: a database write per request would cap the throughput the
verification service needs, so the limit holds per server process (a client spreading over N
workers gets up to N × the rate). ``PublicRateThrottle.hit`` is the one place that counts;
a shared store (several processes, one budget) replaces that method alone.
"""

import math
import threading
import time

from django.conf import settings
from ninja.throttling import BaseThrottle

from isocert.core.client_address import client_address


class PublicRateThrottle(BaseThrottle):
    """A fixed-window count per client address, in this process's memory.

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
        with self._lock:
            if window != self._window:
                self._window, self._counts = window, {}
            used = self._counts[ident] = self._counts.get(ident, 0) + 1
        if used > limit:
            return (window[1] + 1) * seconds - now
        return None

    def allow_request(self, request) -> bool:
        """django-ninja's throttle interface (the directory operation)."""
        wait = self.hit(self.get_ident(request))
        if wait is not None:
            self._wait = wait
        return wait is None

    def reset(self) -> None:
        """Forget every count (tests)."""
        with self._lock:
            self._window, self._counts = None, {}

    def wait(self) -> float | None:
        return self._wait


PUBLIC_THROTTLE = PublicRateThrottle()


def public_rate_limited(request) -> int | None:
    """Count ``request`` against its client's public budget: ``None`` when it may be
    answered, else the whole seconds to wait (for ``Retry-After``)."""
    wait = PUBLIC_THROTTLE.hit(PUBLIC_THROTTLE.get_ident(request))
    return None if wait is None else max(1, math.ceil(wait))
