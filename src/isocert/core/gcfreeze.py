"""What a server process has loaded by the end of its first request — modules, URL patterns,
compiled templates, API schemas — lives as long as the process. Python's cyclic garbage
collector walks all of it on every full collection: on the page benchmark at full scale those
collections added 90–190 ms to about one request in eight (a p95 of 308 ms for a page whose
median is 124 ms; docs/performance.md). After its first request a server process moves what
it holds out of the collector's sight (``gc.freeze``: a permanent generation for objects that
live as long as the process); objects are still freed by reference counting as before, and
what later requests load is collected as usual. Nothing is collected at that moment (no
finalizer runs inside the response's close), and only the server entry points install it
(``isocert.wsgi``, ``isocert.asgi``): not the test or command processes.
"""

import gc

from django.core.signals import request_finished


def freeze_after_first_request(**kwargs) -> None:
    request_finished.disconnect(freeze_after_first_request)
    gc.freeze()


def install() -> None:
    request_finished.connect(freeze_after_first_request)
