"""Optional error reports to Sentry: ``settings`` calls ``init_sentry`` only when
``SENTRY_DSN`` is set, so sentry-sdk is neither imported nor started otherwise.

Events carry the release (``isocert@<version>``) and the request id (a tag, the same as
in the logs and the ``X-Request-ID`` header); ``send_default_pii`` stays off: no cookies,
no user names or addresses, no request bodies.
"""

from django.core.exceptions import ImproperlyConfigured

import isocert

from .requestlog import current_request_id


def _tag_request_id(event, hint):
    request_id = current_request_id()
    if request_id != "-":
        event.setdefault("tags", {})["request_id"] = request_id
    return event


def init_sentry(*, dsn: str, environment: str, traces_sample_rate: float) -> None:
    try:
        import sentry_sdk
        from sentry_sdk.integrations.django import DjangoIntegration
    except ImportError as exc:   # an optional dependency, named when asked for
        raise ImproperlyConfigured("SENTRY_DSN is set but sentry-sdk is not installed: "
                                   "pip install 'isocert[sentry]'.") from exc
    sentry_sdk.init(dsn=dsn, environment=environment, release=f"isocert@{isocert.__version__}",
                    integrations=[DjangoIntegration()], send_default_pii=False,
                    traces_sample_rate=traces_sample_rate, before_send=_tag_request_id)
