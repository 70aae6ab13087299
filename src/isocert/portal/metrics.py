"""``GET /metrics``: Prometheus metrics for the operator (core/metrics.py), with the
certificates by status from certification — composed here, in the shell, so that core
imports no app.

Off unless ``METRICS_TOKEN`` is set (404); then only with ``Authorization: Bearer <token>``
(401 otherwise). No session, no CSRF, not rate-limited; answers ``no-store``.
"""

import hmac

from django.conf import settings
from django.http import Http404, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from isocert.certification.selectors import certificate_counts_by_status
from isocert.core.metrics import CONTENT_TYPE, exposition
from isocert.core.worker import queue_state


def _bearer(request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


@never_cache
@require_GET
def metrics(request):
    expected = settings.METRICS_TOKEN
    if not expected:
        raise Http404("Metrics are off (METRICS_TOKEN is not set).")
    if not hmac.compare_digest(_bearer(request).encode(), expected.encode()):
        response = HttpResponse("A bearer token is required.\n", status=401,
                                content_type="text/plain; charset=utf-8")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    certificates = {(status,): count for status, count in certificate_counts_by_status().items()}
    body = exposition(queue_state(), {"isocert_certificates": ("Certificates by status", "status",
                                                 certificates)})
    return HttpResponse(body, content_type=CONTENT_TYPE)
