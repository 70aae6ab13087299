"""CB administrators browse and filter the audit trail; nobody else sees it."""

import pytest
from django.urls import reverse
from factories import client_for

pytestmark = pytest.mark.django_db


def test_ada_filters_the_trail_by_action_on_the_page(ada, submitted):
    page = client_for(ada).get(reverse("audit_trail"),
                               {"action": "registration.application.submitted"})
    assert page.status_code == 200
    rows = list(page.context["page"])
    assert [e.action for e in rows] == ["registration.application.submitted"]
    assert rows[0].object_id == str(submitted.pk)


def test_a_bad_date_filter_is_named_and_shows_no_500(ada, submitted):
    page = client_for(ada).get(reverse("audit_trail"), {"date_from": "2026-13-45"})
    assert page.status_code == 200
    assert "date_from" in page.context["form"].errors


@pytest.mark.parametrize("who", ["alice", "rita"])
def test_clients_and_reviewers_get_404_for_the_trail(request, who, submitted):
    user = request.getfixturevalue(who)
    assert client_for(user).get(reverse("audit_trail")).status_code == 404
    response = client_for(user).get("/api/v1/audit-events")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_api_lists_newest_first_and_pages_with_before_seq(ada, submitted):
    client = client_for(ada)
    first = client.get("/api/v1/audit-events", {"limit": 2}).json()
    assert len(first) == 2 and first[0]["seq"] > first[1]["seq"]
    older = client.get("/api/v1/audit-events", {"limit": 2, "before_seq": first[-1]["seq"]}).json()
    assert older and all(e["seq"] < first[-1]["seq"] for e in older)
    only_org = client.get("/api/v1/audit-events",
                          {"organization_id": submitted.organization_id}).json()
    assert only_org and {e["organization_id"] for e in only_org} == {submitted.organization_id}
