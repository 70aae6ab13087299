"""Appealing a finding's grading (ISO/IEC 17021-1 §9.7) from the finding's page, within
``APPEAL_WINDOW_DAYS``; the panel upholding it gives the finding a lower grade through the
audit conduct (audit-trailed, the corrective action follows the new grade) — and every
refusal, with nothing changed."""

import datetime

import pytest
from conduct_helpers import ANSWER, finding_data, make_audit
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from helpers.api import assert_error

from isocert.audits.conduct import services as conduct
from isocert.audits.models import Finding
from isocert.complaints import appeals
from isocert.complaints.models import Appeal
from isocert.core.errors import InvalidInput
from isocert.core.models import AuditEvent

pytestmark = pytest.mark.django_db
GROUNDS = "One missing record is a single lapse, not a breakdown of the system."
REASONS = "The evidence shows an isolated lapse: a minor nonconformity."


@pytest.fixture
def major(registered, lead, alice):
    audit = make_audit(registered, lead)
    finding = conduct.create_finding(audit=audit, actor=lead, **finding_data(audit, "major"))
    conduct.submit_corrective_action(finding=finding, actor=alice, **ANSWER)
    finding.refresh_from_db()
    return finding


@pytest.fixture
def investigated(major, alice, ada, ivan):
    appeal = appeals.lodge_appeal(subject="finding_grade", grounds=GROUNDS, actor=alice,
                                  finding=major)
    appeals.acknowledge_appeal(appeal=appeal, actor=ada)
    appeals.appoint_appeal_panel(appeal=appeal, members=[ivan], actor=ada)
    return appeals.record_appeal_investigation(appeal=appeal, actor=ivan,
                                               investigation="Records of March checked.")


def _page(client, finding):
    return client.get(reverse("finding_detail", args=[finding.pk])).content.decode()


# --- lodging from the page ----------------------------------------------------------------------

def test_the_client_appeals_the_grading_from_the_finding_page(major, alice, client):
    client.force_login(alice)
    page = _page(client, major)
    link = reverse("appeal_finding", args=[major.pk])
    assert f'href="{link}"' in page and "Appeal the grading" in page
    form = client.get(link)
    assert form.status_code == 200 and "Grading of a finding" in form.content.decode()
    response = client.post(link, {"grounds": GROUNDS})
    appeal = Appeal.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "appeal_detail", args=[appeal.pk])
    assert (appeal.subject, appeal.finding, appeal.organization) == (
        "finding_grade", major, major.audit.cycle.organization)
    # Once appealed, the page shows the appeal instead of the link.
    page = _page(client, major)
    assert appeal.reference in page and f'href="{link}"' not in page
    # The appeals page lists the finding among those that may be appealed.
    assert link in client.get(reverse("appeal_list")).content.decode()


def test_past_the_window_there_is_no_link_and_lodging_is_refused(major, alice, client,
                                                                 settings):
    Finding.objects.filter(pk=major.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=settings.APPEAL_WINDOW_DAYS + 1))
    client.force_login(alice)
    page = _page(client, major)
    assert "Appeal the grading</a>" not in page and "The window to appeal closed" in page
    response = client.post(reverse("appeal_finding", args=[major.pk]), {"grounds": GROUNDS})
    assert response.status_code == 422
    assert not Appeal.objects.exists()


def test_other_organizations_get_404_and_see_no_panel(major, charlie, client):
    client.force_login(charlie)
    assert client.get(reverse("appeal_finding", args=[major.pk])).status_code == 404
    assert client.post(reverse("appeal_finding", args=[major.pk]),
                       {"grounds": GROUNDS}).status_code == 404
    assert not Appeal.objects.exists()


# --- the panel regrades -------------------------------------------------------------------------

def test_upheld_regrades_the_finding_through_the_audit_conduct(
        investigated, major, ivan, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        appeal = appeals.decide_appeal(appeal=investigated, actor=ivan, upheld=True,
                                       reasons=REASONS, new_grade="minor")
    major.refresh_from_db()
    assert (major.grade, major.status, major.verification_due) == ("minor", "submitted", None)
    assert (appeal.status, appeal.regraded_from, appeal.regraded_to) == (
        "upheld", "major", "minor")
    regraded = AuditEvent.objects.get(action="audits.finding.regraded")
    assert regraded.actor == ivan and appeal.reference in regraded.payload["reason"]
    upheld = AuditEvent.objects.get(action="complaints.appeal.upheld")
    assert (upheld.payload["regraded_from"], upheld.payload["regraded_to"]) == ("major", "minor")
    notice = [m for m in mail.outbox if alice.email in m.to and "Outcome" in m.subject][0]
    assert "regraded from major nonconformity to minor nonconformity" in notice.body


@pytest.mark.parametrize(("upheld", "new_grade"), [
    (True, ""),             # upheld without the new grade
    (True, "major"),        # the grade it has
    (False, "minor"),       # a new grade on a dismissal
])
def test_refused_decisions_change_nothing(investigated, major, ivan, upheld, new_grade):
    before = AuditEvent.objects.count()
    with pytest.raises(InvalidInput) as refused:
        appeals.decide_appeal(appeal=investigated, actor=ivan, upheld=upheld, reasons=REASONS,
                              new_grade=new_grade)
    assert "new_grade" in refused.value.fields
    major.refresh_from_db()
    assert (major.grade, major.status) == ("major", "submitted")
    assert Appeal.objects.get().status == "investigated"
    assert AuditEvent.objects.count() == before


def test_a_minor_may_not_be_raised_to_a_major_on_appeal(registered, lead, alice, ada, ivan):
    audit = make_audit(registered, lead)
    minor = conduct.create_finding(audit=audit, actor=lead, **finding_data(audit, "minor"))
    appeal = appeals.lodge_appeal(subject="finding_grade", grounds=GROUNDS, actor=alice,
                                  finding=minor)
    appeals.acknowledge_appeal(appeal=appeal, actor=ada)
    appeals.appoint_appeal_panel(appeal=appeal, members=[ivan], actor=ada)
    appeals.record_appeal_investigation(appeal=appeal, actor=ivan, investigation="Checked.")
    with pytest.raises(InvalidInput):
        appeals.decide_appeal(appeal=appeal, actor=ivan, upheld=True, reasons=REASONS,
                              new_grade="major")
    minor.refresh_from_db()
    assert minor.grade == "minor"


def test_the_panel_page_records_the_new_grade(investigated, major, ivan, api_client):
    client = api_client(ivan)
    detail = client.get(reverse("appeal_detail", args=[investigated.pk])).content.decode()
    assert "New grade of the finding" in detail
    decide = reverse("appeal_action", args=[investigated.pk, "decide"])
    refused = client.post(decide, {"upheld": "true", "reasons": REASONS, "new_grade": ""})
    assert refused.status_code == 422
    assert Appeal.objects.get().status == "investigated"
    done = client.post(decide, {"upheld": "true", "reasons": REASONS,
                                "new_grade": "observation"})
    assert done.status_code == 302
    major.refresh_from_db()
    assert (major.grade, major.status) == ("observation", "n/a")
    detail = client.get(reverse("appeal_detail", args=[investigated.pk])).content.decode()
    assert "regraded from major nonconformity to observation" in detail


def test_the_api_regrades_and_refuses(investigated, major, ivan, charlie, api_client):
    path = f"/api/v1/appeals/{investigated.pk}/decision"
    json = "application/json"
    assert_error(api_client(charlie).post(path, {"upheld": True, "reasons": REASONS,
                                                 "new_grade": "minor"}, content_type=json),
                 404, "not_found")
    assert_error(api_client(ivan).post(path, {"upheld": True, "reasons": REASONS},
                                       content_type=json), 422, "invalid", "new_grade")
    answer = api_client(ivan).post(path, {"upheld": True, "reasons": REASONS,
                                          "new_grade": "minor"}, content_type=json)
    assert answer.status_code == 200, answer.content
    assert (answer.json()["regraded_from"], answer.json()["regraded_to"]) == ("major", "minor")
    major.refresh_from_db()
    assert major.grade == "minor"
