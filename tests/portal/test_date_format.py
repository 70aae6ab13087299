"""Dates read one way (issue #19: "dates are shown in one format everywhere, locale-aware,
e.g. 6 Dec 2026"): the display format comes from the locale's format module, and no page
or e-mail a person reads shows an ISO date. Machine formats keep ISO 8601: the
``datetime`` of a ``<time>`` element and a form field's ``value``.

The guard renders the main pages of the demo data (``seed-demo``: certificates active and
suspended, applications in every state, audits, a complaint and an appeal, the impartiality
register, energy data, a gap analysis) for each role, and the e-mails the demo sends.
"""

import datetime
import re
from io import StringIO

import pytest
from django import forms
from django.core import mail
from django.core.management import call_command
from django.template import engines
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from factories import client_for

from isocert.accounts.models import Organization, User
from isocert.audits.models import Audit, CertificationCycle
from isocert.certification.models import Certificate
from isocert.complaints.models import Appeal, Complaint
from isocert.core.audit import record_event
from isocert.core.dates import display_date, display_dates_in, display_datetime
from isocert.core.models import AuditEvent
from isocert.energy.models import Baseline, ReportingPeriod
from isocert.impartiality.models import CommitteeMeeting, ImpartialityRisk
from isocert.improvement.models import Action
from isocert.readiness.models import GapAssessment
from isocert.registration.models import Application

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Where an ISO date belongs: for machines, not shown as text.
MACHINE_ATTRIBUTES = re.compile(r'\s(?:datetime|value)="[^"]*"')


def iso_dates_shown(text: str) -> list[str]:
    """Each ISO date in ``text`` outside the machine attributes, with what surrounds it."""
    text = MACHINE_ATTRIBUTES.sub("", text)
    return [text[max(0, m.start() - 60):m.end() + 20] for m in ISO_DATE.finditer(text)]


# --- the format ---------------------------------------------------------------------------------

def test_dates_and_times_have_one_display_format():
    day = datetime.date(2026, 12, 6)
    moment = timezone.make_aware(datetime.datetime(2026, 12, 6, 14, 30))
    template = engines["django"].from_string(
        '{{ day }}|{{ day|date }}|{{ day|date:"SHORT_DATE_FORMAT" }}|'
        '{{ moment|date:"DATETIME_FORMAT" }}|{{ moment|date:"SHORT_DATETIME_FORMAT" }}|'
        '{{ moment|time }}|{% load dates %}{{ iso|display_date }}|'
        '{{ iso_moment|display_datetime }}')

    rendered = template.render({"day": day, "moment": moment, "iso": "2026-12-06",
                                "iso_moment": moment.isoformat()})

    assert rendered.split("|") == ["6 Dec 2026", "6 Dec 2026", "6 Dec 2026",
                                   "6 Dec 2026, 14:30", "6 Dec 2026, 14:30", "14:30",
                                   "6 Dec 2026", "6 Dec 2026, 14:30"]
    assert display_date(day) == display_date("2026-12-06") == "6 Dec 2026"
    assert display_datetime(moment) == "6 Dec 2026, 14:30"
    assert display_date(None) == "" and display_date("not a date") == "not a date"
    assert display_dates_in("2026-12-01 – 2026-12-31, month 2026-12") == (
        "1 Dec 2026 – 31 Dec 2026, month 2026-12")


def test_times_show_in_the_portals_time_zone(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    moment = datetime.datetime(2026, 12, 6, 23, 30, tzinfo=datetime.UTC)

    assert display_datetime(moment) == "7 Dec 2026, 00:30"
    assert display_date(moment) == "7 Dec 2026"


def test_another_locale_changes_the_format():
    """The format module of the active language decides (docs/configuration.md): without
    one of the portal's, Django's own formats for that language apply."""
    with translation.override("de"):
        assert display_date(datetime.date(2026, 12, 6)) == "6. Dezember 2026"


def test_input_still_takes_iso_dates():
    field = forms.DateField()
    assert field.clean("2026-12-06") == datetime.date(2026, 12, 6)


# --- the guard ----------------------------------------------------------------------------------

def _user(name: str) -> User:
    return User.objects.get(email__startswith=f"{name}@")


def _pages() -> dict[str, list[str]]:
    """The pages each demo user opens, by user name (None: a visitor)."""
    nordlicht = Organization.objects.get(legal_name="Nordlicht Aluminium GmbH")
    brightpath = Organization.objects.get(legal_name="Brightpath Services Ltd")
    certificates = list(Certificate.objects.exclude(organization=None))
    applications = list(Application.objects.all())
    audits = list(Audit.objects.all())
    cycles = list(CertificationCycle.objects.all())
    url = reverse
    client_pages = [url("dashboard"), url("certificate_list"), url("appeal_list")]
    pages = {
        "alice": client_pages + [
            *(url("application_detail", args=[a.pk]) for a in applications
              if a.organization_id == nordlicht.pk),
            *(url("certificate_detail", args=[c.pk]) for c in certificates
              if c.organization_id == nordlicht.pk),
            *(url("gap_assessment_detail", args=[g.pk]) for g in GapAssessment.objects.all()),
            url("readiness", args=[nordlicht.pk]), url("action_list", args=[nordlicht.pk]),
            url("action_board", args=[nordlicht.pk]),
            *(url("action_detail", args=[a.pk]) for a in Action.objects.all()),
            url("energy_home", args=[nordlicht.pk]), url("baseline_list", args=[nordlicht.pk]),
            url("energy_review", args=[nordlicht.pk]),
            *(url("baseline_detail", args=[b.pk]) for b in Baseline.objects.all()),
            *(url("reporting_period_detail", args=[p.pk])
              for p in ReportingPeriod.objects.all()),
            *(url("audit_plan_client", args=[a.pk]) for a in audits
              if a.cycle.organization_id == nordlicht.pk),
        ],
        "charlie": client_pages + [
            *(url("application_detail", args=[a.pk]) for a in applications
              if a.organization_id == brightpath.pk),
            *(url("certificate_detail", args=[c.pk]) for c in certificates
              if c.organization_id == brightpath.pk),
            *(url("appeal_detail", args=[a.pk]) for a in Appeal.objects.all()),
        ],
        "rita": [url("dashboard"), url("work_queue"), url("review_queue"), url("audit_list"),
                 *(url("review_detail", args=[a.pk]) for a in applications
                   if a.status != "draft"),
                 *(url("audit_planning", args=[a.pk]) for a in audits)],
        "adam": [url("dashboard")],
        "dora": [url("dashboard"), url("work_queue"), url("decision_queue"),
                 url("certificate_list"),
                 *(url("certificate_detail", args=[c.pk]) for c in certificates),
                 *(url("cycle_detail", args=[c.pk]) for c in cycles)],
        # Not the audit trail: its Details column shows each event's signed payload as
        # recorded, ISO 8601 (its times: test_the_audit_trail_shows_its_times_in_utc).
        "ada": [url("dashboard"), url("impartiality_register"), url("impartiality_committee"),
                url("impartiality_meetings"), url("edition_transitions"),
                url("complaint_list"), url("appeal_list"), url("registry_home"),
                url("my_declarations"),
                *(url("impartiality_risk_detail", args=[r.pk])
                  for r in ImpartialityRisk.objects.all()),
                *(url("impartiality_meeting_detail", args=[m.pk])
                  for m in CommitteeMeeting.objects.all()),
                *(url("complaint_detail", args=[c.pk]) for c in Complaint.objects.all()),
                *(url("appeal_detail", args=[a.pk]) for a in Appeal.objects.all())],
        None: [url("certificate_directory"),
               *(url("verify_certificate", args=[c.number]) for c in certificates)],
    }
    return pages


@pytest.mark.django_db
def test_no_page_or_e_mail_of_the_demo_shows_an_iso_date(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed-demo", stdout=StringIO())
    assert mail.outbox, "the demo sends e-mails"

    shown = {}
    opened = 0
    for name, urls in _pages().items():
        client = client_for(_user(name)) if name else Client()
        for page_url in urls:
            response = client.get(page_url)
            assert response.status_code == 200, (name, page_url, response.status_code)
            opened += 1
            if found := iso_dates_shown(response.content.decode()):
                shown[f"{name} {page_url}"] = found
    for message in mail.outbox:
        if found := iso_dates_shown(f"{message.subject}\n{message.body}"):
            shown[f"e-mail {message.subject}"] = found

    assert opened > 40
    assert not shown


@pytest.mark.django_db
def test_the_audit_trail_shows_its_times_in_utc(ada, settings):
    """The column says "Time (UTC)", whatever the portal's time zone; seconds count there."""
    settings.TIME_ZONE = "Asia/Kolkata"   # UTC+05:30: no hour could match by chance
    record_event(actor=ada, action="test.event", object_type="test", object_id="1", payload={})
    event = AuditEvent.objects.latest("seq")
    at = event.created_at.astimezone(datetime.UTC)

    page = client_for(ada).get(reverse("audit_trail")).content.decode()

    assert (f'<time datetime="{at.isoformat()}">{at.day} {at:%b %Y}, {at:%H:%M:%S}</time>'
            in page)
