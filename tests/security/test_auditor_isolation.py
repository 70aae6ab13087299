"""Auditors see only the audits they are on: Adam, on the team, sees the audit; Eve, another
auditor, gets 404 from every page and API operation of it — as if it did not exist."""

import datetime
import re
from collections import defaultdict
from types import SimpleNamespace

import pytest
from django.urls import URLResolver, get_resolver
from factories import make_user
from programme_helpers import START, auditor, cycle_for, event_count, profile_for
from test_tenant_sweep import api_request  # the sweep's body sampler

from isocert.audits.models import Audit, AuditPlan, PlanSession, TeamMember
from isocert.audits.programme import services as programme
from isocert.portal.api import api

NOT_FOUND = {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}
ROUTE_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
HTML_PREFIXES = {"audits/<int:pk>/": "audit", "cycles/<int:pk>/": "cycle",
                 "cb/cycles/<int:pk>/": "cycle",
                 "team-members/<int:pk>/": "team_member", "plan-sessions/<int:pk>/": "plan_session"}
API_PARAMS = {"audit_id": "audit", "cycle_id": "cycle", "team_member_id": "team_member",
              "plan_session_id": "plan_session"}


@pytest.fixture
def world(nordlicht, alice, rita, adam):
    profile_for(adam, lead=True)
    cycle = cycle_for(nordlicht, alice, rita)
    audit = cycle.audits.get(kind="stage1")
    programme.schedule_audit(audit=audit, actor=rita, start_date=START,
                             end_date=START + datetime.timedelta(days=1))
    member = programme.assign_team_member(audit=audit, actor=rita, auditor=adam, role="lead")
    session = programme.add_plan_session(audit=audit, actor=adam, starts_at=f"{START}T09:00",
                                                                  ends_at=f"{START}T10:00",
                                                                  topic="Opening meeting",
                                                                  auditor_id=adam.pk)
    return {"cycle": cycle.pk, "audit": audit.pk, "team_member": member.pk,
            "plan_session": session.pk}


@pytest.fixture
def eve(db):
    user = make_user("eve@cb.example", "Eve Auditor", roles=["auditor"])
    profile_for(user, lead=True)
    return user


def state(ids) -> tuple:
    audit = Audit.objects.get(pk=ids["audit"])
    return (audit.status, audit.start_date, audit.end_date, audit.site_selection,
            list(TeamMember.objects.filter(audit=audit).values_list("pk", "role",
                                                                   "impartiality_declared_at")),
            list(AuditPlan.objects.filter(audit=audit).values_list("status", "version")),
            list(PlanSession.objects.filter(plan__audit=audit).values_list("pk", "topic")),
            Audit.objects.filter(cycle_id=ids["cycle"]).count(), event_count())


def pages():
    def walk(resolver, prefix):
        for entry in resolver.url_patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                yield from walk(entry, route)
            else:
                yield route, entry.name
    for route, name in walk(get_resolver(), ""):
        kind = next((k for p, k in HTML_PREFIXES.items() if route.startswith(p)), None)
        if kind and len(ROUTE_PARAM.findall(route)) == 1:
            yield route, name, kind


def operations():
    for path, methods in api.get_openapi_schema()["paths"].items():
        names = re.findall(r"{(\w+)}", path)
        if len(names) == 1 and names[0] in API_PARAMS:
            for method in methods:
                yield method, path, names[0]


def test_adam_on_the_team_sees_the_audit(world, adam, api_client):
    client = api_client(adam)
    assert client.get(f"/audits/{world['audit']}/planning/").status_code == 200
    assert client.get(f"/cycles/{world['cycle']}/").status_code == 200
    response = client.get(f"/api/v1/audits/{world['audit']}")
    assert response.status_code == 200 and response.json()["team"][0]["role"] == "lead"
    assert [a["id"] for a in client.get("/api/v1/audits").json()] == [world["audit"]]
    # The cycle shows Adam only the audit he is on.
    cycle = client.get(f"/api/v1/cycles/{world['cycle']}").json()
    assert [a["id"] for a in cycle["audits"]] == [world["audit"]]


def test_eve_gets_404_from_every_page_of_the_audit(world, eve, api_client):
    client = api_client(eve)
    before = state(world)
    problems, seen = [], 0
    for route, name, kind in pages():
        url = "/" + ROUTE_PARAM.sub(str(world[kind]), route)
        get = client.get(url)
        if get.status_code not in (404, 405):
            problems.append(f"GET {url} ({name}): {get.status_code}")
        post = client.post(url, {"comment": "Eve", "topic": "Eve", "role": "lead",
                                 "auditor_id": eve.pk, "start_date": "2031-06-01",
                                 "end_date": "2031-06-02", "statement": "Eve"})
        if post.status_code != 404:
            problems.append(f"POST {url} ({name}): {post.status_code}")
        seen += 1
    assert seen >= 15
    assert problems == []
    assert state(world) == before


def test_eve_gets_404_from_every_api_operation_of_the_audit(world, eve, api_client):
    client = api_client(eve)
    before = state(world)
    ids = defaultdict(lambda: [987_654_321], {k: [v] for k, v in world.items()})
    problems, seen = [], 0
    for method, path, param in operations():
        url = path.replace("{" + param + "}", str(world[API_PARAMS[param]]))
        operation = api.get_openapi_schema()["paths"][path][method]
        # The sweep's sampler sends a valid body (multipart for uploads), so a refusal
        # can only be the 404 and never a validation error that skipped the lookup.
        response = api_request(client, method, url, operation, SimpleNamespace(ids=ids))
        if response.status_code != 404 or response.json() != NOT_FOUND:
            problems.append(f"{method.upper()} {url}: {response.status_code}")
        seen += 1
    assert seen >= 15
    assert problems == []
    assert state(world) == before
    assert client.get("/api/v1/audits").json() == []
    assert client.get("/api/v1/cycles").json() == []


def test_a_second_auditor_assigned_later_sees_the_audit(world, eve, rita, api_client):
    # Eve overlaps nothing and is qualified: once on the team, the 404 becomes a 200.
    audit = Audit.objects.get(pk=world["audit"])
    programme.assign_team_member(audit=audit, actor=rita, auditor=eve, role="member")
    assert api_client(eve).get(f"/api/v1/audits/{audit.pk}").status_code == 200


def test_clients_never_see_cb_internal_fields(world, alice, api_client):
    response = api_client(alice).get(f"/api/v1/audits/{world['audit']}").json()
    assert response["late_stage2_justification"] is None and response["problems"] is None
    assert response["plan_status"] is None  # the draft plan is the CB's work in progress
    assert api_client(alice).get(f"/audits/{world['audit']}/planning/").status_code == 404


def test_an_auditor_without_a_profile_is_not_suggested(world, rita):
    auditor("noprofile@cb.example")  # has a profile: suggested unless busy
    make_user("bare@cb.example", roles=["auditor"])
    from isocert.audits.programme import selectors

    audit = Audit.objects.get(pk=world["audit"])
    emails = [s["auditor"].email for s in selectors.auditor_suggestions(user=rita, audit=audit)]
    assert "bare@cb.example" not in emails
