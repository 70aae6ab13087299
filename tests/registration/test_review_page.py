"""The reviewer's page proposes audit days from the application's data before any is saved."""

import pytest
from django.urls import reverse
from factories import client_for

from isocert.catalog.audittime import compute_audit_time
from isocert.registration.services import audit_time_inputs

pytestmark = pytest.mark.django_db


def test_review_page_proposes_days_computed_from_the_application(nordlicht, alice, rita):
    from factories import complete_application_data

    from isocert.registration.services import create_application, start_review, submit_application

    application = create_application(organization=nordlicht, actor=alice, **complete_application_data(
        standards=[{"standard": "ISO 9001", "effective_personnel": "30"}]))
    submit_application(application=application, actor=alice)
    start_review(application=application, actor=rita)
    page = client_for(rita).get(reverse("review_detail", args=[application.pk]))
    assert page.status_code == 200
    expected = compute_audit_time(audit_time_inputs(application, adjustments=[],
                                                    sampling_allowed=False))
    assert page.context["proposal"]["initial_days"] == expected["initial_days"] == 4.0
    assert "Proposed from the application" in page.content.decode()


def test_no_proposal_once_the_audit_time_is_saved(under_review, rita):
    from isocert.registration.services import determine_audit_time

    determine_audit_time(application=under_review, actor=rita, overrides={
        "initial_days": {"value": "6", "justification": "No ISO 50003 table configured yet."}})
    page = client_for(rita).get(reverse("review_detail", args=[under_review.pk]))
    assert page.context["proposal"] is None
    assert page.context["determination"].initial_days == 6
