"""Optional error reports to Sentry: ``settings`` calls ``init_sentry`` only when
``SENTRY_DSN`` is set, so sentry-sdk is neither imported nor started otherwise.

Events carry the release (``isocert@<version>``) and the request id (a tag, the same as
in the logs and the ``X-Request-ID`` header). sentry-sdk 3 collects user details, cookies,
headers, query strings and bodies unless told not to (its ``send_default_pii`` switch is
gone): ``NO_PERSONAL_DATA`` turns each category off, and local variables with it (a frame of
a form view holds what the person typed).
"""

from django.core.exceptions import ImproperlyConfigured

import isocert

from .requestlog import current_request_id


def _tag_request_id(event, hint):
    request_id = current_request_id()
    if request_id != "-":
        event.setdefault("tags", {})["request_id"] = request_id
    return event


# sentry-sdk 3's ``data_collection`` categories, all personal ones off.
NO_PERSONAL_DATA = {
    "user_info": False,
    "cookies": {"mode": "off"},
    "http_headers": {"request": {"mode": "off"}},
    "http_bodies": [],
    "url_query_params": {"mode": "off"},
    "graphql": {"document": False, "variables": False},
    "database_query_data": False,
    "stack_frame_variables": False,
}


def init_sentry(*, dsn: str, environment: str, traces_sample_rate: float) -> None:
    try:
        import sentry_sdk
        from sentry_sdk.integrations.django import DjangoIntegration
    except ImportError as exc:   # an optional dependency, named when asked for
        raise ImproperlyConfigured("SENTRY_DSN is set but sentry-sdk is not installed: "
                                   "pip install 'isocert[sentry]'.") from exc
    sentry_sdk.init(dsn=dsn, environment=environment, release=f"isocert@{isocert.__version__}",
                    integrations=[DjangoIntegration()], data_collection=NO_PERSONAL_DATA,
                    traces_sample_rate=traces_sample_rate, before_send=_tag_request_id)
