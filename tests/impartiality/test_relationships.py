"""Declared client relationships of the CB's people feed the register (ISO/IEC 17021-1
§5.2.3): accounts sends a signal, the register records the threat in the same
transaction, and an ended relationship's risk is due for review."""

import datetime

import pytest
from django.contrib.admin.sites import site
from django.core import mail
from django.test import RequestFactory
from django.utils import timezone
from factories import client_for
from helpers.dates import shown

from isocert.accounts.models import ClientRelationship
from isocert.accounts.services import declare_client_relationship, end_client_relationship
from isocert.core.errors import Conflict, InvalidInput, NotPermitted
from isocert.core.models import AuditEvent
from isocert.impartiality import services
from isocert.impartiality.models import ImpartialityRisk

pytestmark = pytest.mark.django_db


def test_a_declared_consultancy_is_a_self_review_threat_in_the_register(
        adam, nordlicht, ada, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        relationship = declare_client_relationship(
            user=adam, organization_id=nordlicht.pk, kind="consultancy",
            start_date=timezone.localdate() - datetime.timedelta(days=30), actor=adam)

    risk = ImpartialityRisk.objects.get(relationship=relationship)
    assert (risk.threat, risk.status, risk.owner, risk.organization) == (
        "self_review", "open", None, nordlicht)
    assert "Adam Auditor" in risk.source and "Nordlicht" in risk.source
    assert "for 2 years after it" in risk.safeguard
    event = AuditEvent.objects.get(action="impartiality.risk.recorded")
    assert event.actor == adam and event.payload["relationship"] == relationship.pk
    told = [m for m in mail.outbox if "impartiality register" in m.subject]
    assert told and told[0].to == [ada.email] and risk.reference in told[0].body


def test_declared_employment_is_a_familiarity_threat(dora, nordlicht):
    relationship = declare_client_relationship(
        user=dora, organization_id=nordlicht.pk, kind="employment",
        start_date=datetime.date(2020, 1, 1), end_date=datetime.date(2024, 6, 30), actor=dora)
    risk = ImpartialityRisk.objects.get(relationship=relationship)
    assert risk.threat == "familiarity"
    assert "to 30 Jun 2024" in risk.description


def test_a_refused_declaration_leaves_no_risk(alice, nordlicht):
    with pytest.raises(NotPermitted):
        declare_client_relationship(user=alice, organization_id=nordlicht.pk,
                                    kind="consultancy", start_date=datetime.date(2025, 1, 1),
                                    actor=alice)
    assert not ImpartialityRisk.objects.exists()


def test_the_register_entry_is_made_once_per_relationship(relationship, adam):
    again = services.record_relationship_risk(relationship=relationship, actor=adam)
    assert ImpartialityRisk.objects.filter(relationship=relationship).get() == again


def test_an_ended_relationship_marks_its_risk_for_review(relationship, adam):
    risk = ImpartialityRisk.objects.get(relationship=relationship)
    today = timezone.localdate()

    end_client_relationship(relationship=relationship, end_date=today, actor=adam)

    risk.refresh_from_db()
    assert risk.next_review_on == today
    assert f"ended on {shown(today)}" in risk.review_requested
    assert risk in services.risks_due(today)
    assert AuditEvent.objects.filter(action="impartiality.risk.review_requested",
                                     object_id=str(risk.pk)).exists()


def test_the_review_answers_the_request(relationship, adam, ada):
    end_client_relationship(relationship=relationship, end_date=timezone.localdate(),
                            actor=adam)
    risk = ImpartialityRisk.objects.get(relationship=relationship)
    services.review_risk(risk=risk, actor=ada, outcome="mitigated",
                         conclusion="Cooling-off runs; Adam stays off Nordlicht.")
    risk.refresh_from_db()
    assert risk.review_requested == "" and risk.next_review_on > timezone.localdate()


def test_ending_is_refused_twice_in_the_future_or_by_someone_else(relationship, adam, rita):
    today = timezone.localdate()
    with pytest.raises(NotPermitted):
        end_client_relationship(relationship=relationship, end_date=today, actor=rita)
    with pytest.raises(InvalidInput):
        end_client_relationship(relationship=relationship,
                                end_date=today + datetime.timedelta(days=1), actor=adam)
    end_client_relationship(relationship=relationship, end_date=today, actor=adam)
    before = AuditEvent.objects.count()
    with pytest.raises(Conflict):
        end_client_relationship(relationship=relationship, end_date=today, actor=adam)
    assert AuditEvent.objects.count() == before


def test_an_end_date_set_in_the_admin_marks_the_risk_too(relationship, ada):
    admin = site._registry[ClientRelationship]
    request = RequestFactory().post("/")
    request.user = ada
    relationship = ClientRelationship.objects.get(pk=relationship.pk)
    admin.save_model(request, relationship, form=None, change=True)  # the snapshot
    relationship.end_date = timezone.localdate()
    relationship.save()

    class Form:
        instance = relationship

        def save_m2m(self):
            pass

    admin.save_related(request, Form(), [], change=True)

    risk = ImpartialityRisk.objects.get(relationship=relationship)
    assert risk.review_requested


def test_a_relationship_added_in_the_admin_enters_the_register(
        ada, adam, nordlicht, django_capture_on_commit_callbacks):
    """The admin declares it through the accounts service: audit event, signal, risk."""
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(ada).post("/admin/accounts/clientrelationship/add/", {
            "user": str(adam.pk), "organization": str(nordlicht.pk), "kind": "consultancy",
            "start_date": "2024-03-01", "end_date": "", "notes": "ISO 9001 project"})

    assert response.status_code == 302, response.content.decode()[:3000]
    relationship = ClientRelationship.objects.get(user=adam, organization=nordlicht)
    assert relationship.notes == "ISO 9001 project"
    risk = ImpartialityRisk.objects.get(relationship=relationship)
    assert (risk.threat, risk.organization) == ("self_review", nordlicht)
    declared = AuditEvent.objects.get(action="accounts.client_relationship.declared")
    assert (declared.actor, declared.object_id) == (ada, str(relationship.pk))
    recorded = AuditEvent.objects.get(action="impartiality.risk.recorded")
    assert recorded.actor == ada and recorded.payload["relationship"] == relationship.pk
    assert any(risk.reference in m.body for m in mail.outbox)


def test_a_refused_addition_in_the_admin_shows_on_the_form(ada, alice, adam, nordlicht):
    """The service's refusals (no CB role; a start in the future) are form errors."""
    admin_client = client_for(ada)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    for user, start, message in ((alice, "2024-03-01", "Only the certification body"),
                                 (adam, tomorrow.isoformat(), "On or before")):
        response = admin_client.post("/admin/accounts/clientrelationship/add/", {
            "user": str(user.pk), "organization": str(nordlicht.pk), "kind": "consultancy",
            "start_date": start, "end_date": "", "notes": ""})
        assert response.status_code == 200
        assert message in response.content.decode()
    assert not ClientRelationship.objects.exists()
    assert not ImpartialityRisk.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="accounts.client_relationship")
