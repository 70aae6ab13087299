"""/metrics: Prometheus metrics behind a bearer token (issue #16)."""

import pytest
from django.test import Client
from django.utils import timezone
from registry_helpers import make_certificate

from isocert.core.worker import beat
from isocert.notifications.tasks import send_rendered_email

pytestmark = pytest.mark.django_db

TOKEN = "scrape-" + "t" * 40


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN


def scrape(token=TOKEN):
    return Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")


def sample(body: str, prefix: str) -> float:
    """The value of the first sample line starting with ``prefix``."""
    line = next(line for line in body.splitlines() if line.startswith(prefix))
    return float(line.rsplit(" ", 1)[1])


def test_metrics_are_off_without_a_token(settings):
    settings.METRICS_TOKEN = ""

    assert Client().get("/metrics").status_code == 404
    assert scrape("anything").status_code == 404


def test_a_missing_or_wrong_token_is_refused(metrics_on):
    missing = Client().get("/metrics")
    wrong = scrape("scrape-" + "x" * 40)

    assert (missing.status_code, wrong.status_code) == (401, 401)
    assert missing["WWW-Authenticate"].startswith("Bearer")
    assert b"isocert_" not in wrong.content


def test_requests_are_counted_and_timed_per_route(metrics_on):
    before = scrape().content.decode()
    label = 'method="GET",route="health/live",status="200"'
    counted_before = (sample(before, f"isocert_http_requests_total{{{label}}}")
                      if label in before else 0)

    Client().get("/health/live")
    Client().get("/health/live")
    body = scrape().content.decode()

    assert sample(body, f"isocert_http_requests_total{{{label}}}") == counted_before + 2
    assert 'isocert_http_request_duration_seconds_bucket{le="0.005",method="GET",' \
           'route="health/live"}' in body
    # Unknown paths share one label: no path, id or token becomes a series of its own.
    Client().get("/no-such-page/4711")
    assert 'route="-",status="404"' in scrape().content.decode()


def test_queue_depth_age_and_workers_are_read_at_each_scrape(metrics_on, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    send_rendered_email.enqueue(subject="Hi", body="Hi", html="", to=["a@x.example"])
    beat("w-1", timezone.now())

    body = scrape().content.decode()

    assert sample(body, "isocert_task_queue_depth ") == 1
    assert sample(body, "isocert_task_queue_oldest_age_seconds ") >= 0
    assert sample(body, "isocert_task_workers_live ") == 1


def test_certificates_are_counted_by_status(metrics_on):
    make_certificate(number="C-1")
    make_certificate(number="C-2")
    make_certificate(number="C-3", status="Suspended")

    body = scrape().content.decode()

    assert sample(body, 'isocert_certificates{status="Active"}') == 2
    assert sample(body, 'isocert_certificates{status="Suspended"}') == 1
    assert sample(body, 'isocert_certificates{status="Withdrawn"}') == 0
