"""The audit list: an auditor finds the audits they are on, and only those."""

import pytest
from django.urls import reverse
from factories import client_for, make_user
from programme_helpers import audit_of, cycle_for, profile_for

from isocert.audits.programme import services as programme

pytestmark = pytest.mark.django_db


def test_auditors_see_their_assignments_only(nordlicht, alice, rita):
    adam = make_user("adam.lead@cb.example", "Adam Lead", roles=["auditor"])
    eve = make_user("eve@cb.example", "Eve Other", roles=["auditor"])
    profile_for(adam, lead=True)
    cycle = cycle_for(nordlicht, alice, rita)
    stage1 = audit_of(cycle)
    programme.assign_team_member(audit=stage1, auditor=adam, role="lead", actor=rita)

    adam_page = client_for(adam).get(reverse("audit_list"))
    assert [a.pk for a in adam_page.context["page"]] == [stage1.pk]
    assert reverse("audit_planning", args=[stage1.pk]) in adam_page.content.decode()
    assert list(client_for(eve).get(reverse("audit_list")).context["page"]) == []
    assert len(client_for(rita).get(reverse("audit_list")).context["page"]) == 5


def test_an_auditor_lands_on_a_dashboard_with_the_audits_link(adam):
    page = client_for(adam).get(reverse("dashboard"))
    assert page.status_code == 200
    assert reverse("audit_list") in page.content.decode()
    assert "Create your organization" not in page.content.decode()
