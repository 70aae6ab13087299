"""Client relationships belong to every CB staff member, not only auditors (ISO/IEC
17021-1 §5.2; IAF MD/ISO 17021-1 §7.2): declared on "My declarations", or by an
administrator; read through one selector by the audit team and the decision."""

import datetime

import pytest
from factories import client_for

from isocert.accounts.models import ClientRelationship
from isocert.accounts.selectors import cooling_off_start, impartiality_relationships
from isocert.accounts.services import declare_client_relationship
from isocert.core.errors import InvalidInput, NotPermitted
from isocert.core.models import AuditEvent

URL = "/account/declarations/"


def test_a_decision_maker_declares_a_relationship_on_her_page(dora, nordlicht):
    client = client_for(dora)
    page = client.get(URL)
    assert page.status_code == 200 and "Nordlicht" in page.content.decode()

    response = client.post(URL, {"organization_id": nordlicht.pk, "kind": "consultancy",
                                 "start_date": "2024-02-01", "end_date": "2025-01-31",
                                 "notes": "ISO 50001 implementation"})

    assert response.status_code == 302
    (relationship,) = ClientRelationship.objects.filter(user=dora)
    assert (relationship.organization, relationship.kind) == (nordlicht, "consultancy")
    assert relationship.end_date == datetime.date(2025, 1, 31)
    event = AuditEvent.objects.get(action="accounts.client_relationship.declared")
    assert event.actor == dora and event.payload["user"] == dora.email
    assert "ISO 50001 implementation" in client.get(URL).content.decode()


@pytest.mark.parametrize(("data", "field"), [
    ({"start_date": "2024-02-01", "end_date": "2023-12-31"}, "end_date"),
    ({"start_date": "2999-01-01"}, "start_date"),
])
def test_the_page_names_a_wrong_date_beside_its_field(rita, nordlicht, data, field):
    response = client_for(rita).post(URL, {"organization_id": nordlicht.pk,
                                           "kind": "employment", **data})

    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert not ClientRelationship.objects.exists()


def test_staff_declare_and_list_through_the_api(rita, nordlicht, api_client):
    client = api_client(rita)
    created = client.post("/api/v1/me/client-relationships", {
        "organization_id": nordlicht.pk, "kind": "employment", "start_date": "2023-04-01",
        "end_date": "2024-03-31"}, content_type="application/json")

    assert created.status_code == 201, created.content
    assert created.json()["organization"] == str(nordlicht)
    listed = client.get("/api/v1/me/client-relationships").json()
    assert [r["id"] for r in listed] == [created.json()["id"]]


def test_the_api_answers_422_naming_the_field(rita, nordlicht, api_client):
    refused = api_client(rita).post("/api/v1/me/client-relationships", {
        "organization_id": nordlicht.pk, "kind": "employment", "start_date": "2024-04-01",
        "end_date": "2024-03-31"}, content_type="application/json")

    assert refused.status_code == 422
    assert set(refused.json()["error"]["fields"]) == {"end_date"}
    assert not ClientRelationship.objects.exists()


def test_clients_get_404_from_the_api(alice, nordlicht, api_client):
    client = api_client(alice)
    assert client.get("/api/v1/me/client-relationships").status_code == 404
    assert client.post("/api/v1/me/client-relationships", {
        "organization_id": nordlicht.pk, "kind": "employment", "start_date": "2024-01-01"},
        content_type="application/json").status_code == 404
    assert not ClientRelationship.objects.exists()


def test_clients_have_no_declarations_page(alice):
    assert client_for(alice).get(URL).status_code == 404
    assert client_for(alice).post(URL, {}).status_code == 404


def test_a_client_cannot_declare_through_the_service(alice, nordlicht):
    with pytest.raises(NotPermitted):
        declare_client_relationship(user=alice, actor=alice, organization_id=nordlicht.pk,
                                    kind="employment", start_date="2024-01-01")


def test_only_an_administrator_declares_for_someone_else(ada, rita, adam, nordlicht):
    data = {"organization_id": nordlicht.pk, "kind": "employment", "start_date": "2024-01-01"}
    with pytest.raises(NotPermitted):
        declare_client_relationship(user=adam, actor=rita, **data)

    relationship = declare_client_relationship(user=adam, actor=ada, **data)

    assert relationship.user == adam
    assert AuditEvent.objects.get(action="accounts.client_relationship.declared").actor == ada


@pytest.mark.parametrize(("data", "field"), [
    ({"organization_id": 999999}, "organization_id"),
    ({"organization_id": 10**30}, "organization_id"),
    ({"kind": "friendship"}, "kind"),
    ({"start_date": ""}, "start_date"),
    ({"start_date": "2024-13-01"}, "start_date"),
])
def test_the_service_names_the_wrong_field(rita, nordlicht, data, field):
    with pytest.raises(InvalidInput) as refused:
        declare_client_relationship(user=rita, actor=rita, **{
            "organization_id": nordlicht.pk, "kind": "employment", "start_date": "2024-01-01",
            **data})

    assert field in refused.value.fields


def test_the_cooling_off_period_is_two_years(rita, nordlicht):
    on = datetime.date(2026, 6, 1)
    assert cooling_off_start(on) == datetime.date(2024, 6, 1)
    assert cooling_off_start(datetime.date(2028, 2, 29)) == datetime.date(2026, 2, 28)
    for start, end in [(datetime.date(2020, 1, 1), datetime.date(2024, 5, 31)),   # too old
                       (datetime.date(2020, 1, 1), datetime.date(2024, 6, 1)),    # last day
                       (datetime.date(2025, 1, 1), None)]:                        # ongoing
        ClientRelationship.objects.create(user=rita, organization=nordlicht, kind="employment",
                                          start_date=start, end_date=end)

    found = impartiality_relationships(user=rita, organization_id=nordlicht.pk, on=on)

    assert sorted(str(r.end_date) for r in found) == ["2024-06-01", "None"]


def test_another_persons_or_clients_relationship_does_not_count(rita, adam, nordlicht,
                                                                brightpath):
    ClientRelationship.objects.create(user=adam, organization=nordlicht, kind="employment",
                                      start_date=datetime.date(2025, 1, 1))
    ClientRelationship.objects.create(user=rita, organization=brightpath, kind="employment",
                                      start_date=datetime.date(2025, 1, 1))

    assert impartiality_relationships(user=rita, organization_id=nordlicht.pk) == []


@pytest.mark.django_db(transaction=True)
def test_the_migration_carries_the_auditor_profiles_relationships_over():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("accounts", "0004_site_country_required"),
              ("audits", "0002_audit_cancellation_plan_revision")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    user = apps.get_model("accounts", "User").objects.create(email="lena@cb.example")
    organization = apps.get_model("accounts", "Organization").objects.create(
        legal_name="Fjord AS", country_id="NO", registered_address="Bryggen 1, Bergen")
    profile = apps.get_model("audits", "AuditorProfile").objects.create(user=user)
    apps.get_model("audits", "ClientRelationship").objects.create(
        auditor=profile, organization=organization, kind="employment",
        start_date=datetime.date(2023, 1, 1), end_date=datetime.date(2024, 6, 30),
        notes="Quality engineer")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(latest)

    (moved,) = ClientRelationship.objects.all()
    assert (moved.user_id, moved.organization_id, moved.kind) == (user.pk, organization.pk,
                                                                  "employment")
    assert (moved.start_date, moved.end_date, moved.notes) == (
        datetime.date(2023, 1, 1), datetime.date(2024, 6, 30), "Quality engineer")
