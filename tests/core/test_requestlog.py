"""One log line per request with a request id; the id in the answer and in error e-mails
(issue #16)."""

import json
import logging
import os
import subprocess
import sys

import pytest
from django.core import mail
from django.http import HttpResponse
from django.test import Client
from django.urls import path

from isocert.core.requestlog import JsonFormatter, RequestIdFilter, TextFormatter


def boom(request):
    raise RuntimeError("the view broke")


def ok(request, pk):
    logging.getLogger("isocert.test").warning("inside the view")
    return HttpResponse("ok")


urlpatterns = [path("boom/", boom), path("things/<int:pk>/", ok)]


@pytest.fixture
def request_lines(caplog):
    caplog.set_level(logging.INFO, logger="isocert.request")
    return lambda: [r for r in caplog.records if r.name == "isocert.request"]


@pytest.mark.django_db
def test_each_request_is_logged_once_with_its_id_route_status_and_duration(request_lines):
    response = Client().get("/health/live")

    [line] = request_lines()
    assert response["X-Request-ID"] == line.request_id and len(line.request_id) == 32
    assert (line.method, line.route, line.status, line.user_id) == (
        "GET", "health/live", 200, None)
    assert line.duration_ms >= 0


def test_the_route_is_the_pattern_not_the_path(request_lines, settings, caplog):
    settings.ROOT_URLCONF = __name__

    Client().get("/things/4711/")

    [line] = request_lines()
    assert line.route == "things/<int:pk>/"
    # Every record logged while answering carries the request's id.
    [inside] = [r for r in caplog.records if r.name == "isocert.test"]
    assert inside.request_id == line.request_id


@pytest.mark.django_db
def test_a_signed_in_users_id_is_logged(alice, api_client, request_lines):
    api_client(alice).get("/api/v1/organizations")

    assert request_lines()[-1].user_id == alice.pk


@pytest.mark.django_db
def test_a_proxys_request_id_is_kept_and_a_malformed_one_replaced(request_lines):
    kept = Client().get("/health/live", HTTP_X_REQUEST_ID="lb-7f3a.19:2")
    replaced = Client().get("/health/live", HTTP_X_REQUEST_ID="<script>" + "x" * 80)

    assert kept["X-Request-ID"] == "lb-7f3a.19:2"
    assert replaced["X-Request-ID"] != "<script>" + "x" * 80
    assert len(replaced["X-Request-ID"]) == 32


def test_the_error_e_mail_names_the_request_id(settings):
    settings.ROOT_URLCONF = __name__
    settings.ADMINS = ["ops@cb.example"]

    response = Client(raise_request_exception=False).get("/boom/")

    assert response.status_code == 500
    [message] = mail.outbox
    assert message.to == ["ops@cb.example"]
    assert f"Request ID: {response['X-Request-ID']}" in message.body
    assert "RuntimeError" in message.body


def _record(**extra) -> logging.LogRecord:
    record = logging.LogRecord("isocert.request", logging.INFO, __file__, 1, "request", None,
                               None)
    record.__dict__.update(extra)
    RequestIdFilter().filter(record)
    return record


def test_json_lines_carry_the_fields():
    line = JsonFormatter().format(_record(request_id="abc", method="GET", status=200,
                                          route="health/live", user_id=7, duration_ms=1.5))

    entry = json.loads(line)
    assert entry["request_id"] == "abc" and entry["logger"] == "isocert.request"
    assert (entry["method"], entry["status"], entry["user_id"], entry["route"]) == (
        "GET", 200, 7, "health/live")
    assert "\n" not in line


def test_text_lines_read_as_words():
    line = TextFormatter().format(_record(request_id="abc", method="GET", status=404))

    assert "INFO isocert.request [abc] request method=GET status=404" in line


def test_log_format_must_be_json_or_text(tmp_path):
    env = {**os.environ, "LOG_FORMAT": "xml", "DJANGO_SETTINGS_MODULE": "isocert.settings",
           "ISOCERT_VAR_DIR": str(tmp_path), "DEBUG": "1"}
    result = subprocess.run([sys.executable, "-c", "import django; django.setup()"], env=env,
                            capture_output=True, text=True, timeout=120)

    assert result.returncode != 0
    assert "LOG_FORMAT must be json or text, not 'xml'" in result.stderr
