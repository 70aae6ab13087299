"""The client's network address, for every rate limit and log-in lock-out.

Behind reverse proxies the socket address is the proxy's: every client would share one
budget (10 failed log-ins from anyone locked every user out). ``TRUSTED_PROXY_COUNT``
names how many proxies stand in front of the portal; each appends the address it saw
to ``X-Forwarded-For``, so the client is the entry that many places from the right.
Entries further left were written by the client itself and are never trusted. Without
trusted proxies the header is ignored (anyone could send a new value each time).
This one function serves allauth's log-in limits (``AccountAdapter.get_client_ip``),
the API's throttles and the public pages' limit.
"""

from django.conf import settings


def client_address(request) -> str | None:
    remote = request.META.get("REMOTE_ADDR")
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        forwarded = [entry.strip() for entry in
                     request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if entry.strip()]
        if forwarded:
            return forwarded[-min(count, len(forwarded))]
    return remote
