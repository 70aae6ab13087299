"""The number of queries a main page makes does not grow with what it lists (issue #19:
"the number of queries per page does not grow with the data").

Each test builds a few objects of the kind a page lists, counts the page's queries, adds
more (2 → 12 unless said otherwise) and counts again: the counts must be equal. Data comes
from the services and the test helpers; the queries are counted with an execute wrapper on
the connection (every statement the request sends, whatever the query log holds).
"""


import datetime
import itertools

import pytest
import queues_helpers as make
from conduct_helpers import finding_data, make_audit
from django.db import connection
from factories import client_for, complete_application_data
from programme_helpers import auditor, cycle_for, profile_for, relationship, staffed_cycles
from readiness_helpers import gap_action
from registry_helpers import make_certificate

from isocert.accounts.models import Organization
from isocert.accounts.services import add_site, create_organization
from isocert.audits.conduct import services as conduct
from isocert.audits.models import Audit, TeamMember
from isocert.certification.models import Certificate
from isocert.complaints.models import Appeal, AppealAttachment, ComplaintMessage
from isocert.complaints.services import lodge_complaint
from isocert.core.models import StoredFile
from isocert.readiness import services as readiness
from isocert.registration.services import create_application, submit_application

pytestmark = pytest.mark.django_db


def count_queries(client, url: str) -> int:
    """The statements one GET of ``url`` sends (after a first GET that warms caches)."""
    client.get(url)
    statements = []

    def count(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    assert statements, url  # a page that makes no query measures nothing here
    return len(statements)


def assert_flat(pages: dict, add, *, few: int = 2, many: int = 12) -> None:
    """``pages`` maps a URL (or a callable giving it) to a client; ``add(n)`` adds n objects."""
    add(few)
    before = {name: count_queries(client, url() if callable(url) else url)
              for name, (client, url) in pages.items()}
    add(many - few)
    after = {name: count_queries(client, url() if callable(url) else url)
             for name, (client, url) in pages.items()}
    assert after == before


def _applications(organization, owner):
    def add(n):
        for _ in range(n):
            application = create_application(organization=organization, actor=owner,
                                              **complete_application_data())
            submit_application(application=application, actor=owner)
    return add


def test_review_pages_and_dashboards_do_not_grow_with_applications(nordlicht, alice, rita):
    staff = client_for(rita)
    assert_flat({
        "review queue": (staff, "/review/"),
        "reviewer dashboard": (staff, "/dashboard/"),
        "API applications": (staff, "/api/v1/applications"),
    }, _applications(nordlicht, alice))


def test_certificate_pages_do_not_grow_with_certificates(nordlicht, dora, client):
    """Certificates of Nordlicht's (the registry's helper makes the rows; the portal lists
    certificates of its own organizations)."""
    def add(n):
        for _ in range(n):
            certificate = make_certificate("Nordlicht Aluminium GmbH")
            Certificate.objects.filter(pk=certificate.pk).update(organization=nordlicht,
                                                                 imported=False)

    staff = client_for(dora)
    assert_flat({
        "certificate list": (staff, "/certificates/"),
        "API certificates": (staff, "/api/v1/certificates"),
        "directory": (client, "/directory/?q=Nordlicht"),
        "decision-maker dashboard": (staff, "/dashboard/"),
    }, add)


def test_audit_conduct_pages_do_not_grow_with_findings(submitted, adam):
    audit = make_audit(submitted, adam)

    def add(n):
        start = audit.findings.count()
        for i in range(n):
            conduct.create_finding(audit=audit, actor=adam, **finding_data(
                audit, "minor" if (start + i) % 2 else "opportunity"))

    lead = client_for(adam)
    assert_flat({
        "findings": (lead, f"/audits/{audit.pk}/findings/"),
        "conduct": (lead, f"/audits/{audit.pk}/conduct/"),
        "report": (lead, f"/audits/{audit.pk}/report/"),
        "API findings": (lead, f"/api/v1/audits/{audit.pk}/findings"),
    }, add)


def test_audit_trail_does_not_grow_with_events(nordlicht, alice, ada):
    def add(n):
        start = nordlicht.sites.count()
        for i in range(n):
            add_site(organization=nordlicht, actor=alice, name=f"Depot {start + i}",
                     address=f"Kai {start + i}, Bremerhaven", effective_personnel=3)

    admin = client_for(ada)
    assert_flat({
        "audit trail": (admin, "/cb/audit-trail/"),
        "API audit events": (admin, "/api/v1/audit-events"),
        "administrator dashboard": (admin, "/dashboard/"),
    }, add)


def test_audit_list_does_not_grow_with_audits(nordlicht, alice, rita):
    """Cycles of five audits each: 1 cycle (5 audits) against 3 (15)."""
    def add(n):
        for _ in range(n):
            cycle_for(nordlicht, alice, rita)

    assert_flat({"audit list": (client_for(rita), "/audits/")}, add, few=1, many=3)


def test_api_audit_lists_do_not_grow_with_audits(nordlicht, brightpath, alice, rita, adam):
    """Cycles of four audits with their teams, plans, sites and start problems
    (``staffed_cycles``; Adam on every team): 2 cycles against 6, as the CB, the client and
    an auditor see them."""
    profile_for(adam)
    staffed = staffed_cycles(nordlicht, brightpath)

    def add(n):
        staffed(n)
        for audit in Audit.objects.exclude(team__auditor=adam):
            TeamMember.objects.create(audit=audit, auditor=adam, role="member")

    pages = {}
    for who, user in (("CB", rita), ("client", alice), ("auditor", adam)):
        pages[f"API audits ({who})"] = (client_for(user), "/api/v1/audits")
        pages[f"API cycles ({who})"] = (client_for(user), "/api/v1/cycles")
    assert_flat(pages, add, few=2, many=6)


def test_auditor_finder_does_not_grow_with_auditors(nordlicht, brightpath, rita, adam):
    """The finder of the planning page and the API (qualified, impartial, free auditors):
    3 candidates against 9, a third of them barred by a consultancy for the client and a
    third busy elsewhere at the audit's dates."""
    audit = make.audit(nordlicht, start=20, lead=adam)
    profile_for(adam, lead=True)
    added = itertools.count()

    def add(n):
        for _ in range(n):
            i = next(added)
            person = auditor(f"candidate{i}@cb.example", f"Candidate {i}", lead=i % 2 == 0)
            if i % 3 == 1:
                relationship(person, nordlicht, start=make.today() - datetime.timedelta(days=90))
            elif i % 3 == 2:
                make.audit(brightpath, start=20, lead=person)

    staff = client_for(rita)
    assert_flat({
        "planning page": (staff, f"/audits/{audit.pk}/planning/"),
        "API auditor suggestions": (staff, f"/api/v1/audits/{audit.pk}/auditor-suggestions"),
    }, add, few=3, many=9)


def test_complaint_and_appeal_lists_do_not_grow(nordlicht, alice, dora):
    """Complaints about Nordlicht with a message and an audit, appeals of Nordlicht's with a
    panel member and an attachment (rows made with the ORM; their services have their own
    tests)."""
    audit = make.audit(nordlicht)
    numbers = itertools.count(1)

    def add(n):
        for _ in range(n):
            i = next(numbers)
            complaint = lodge_complaint(name="Carla Complainant", email="carla@example.com",
                                        subject=f"Late delivery {i}", description="Again.")
            complaint.audits.add(audit)
            ComplaintMessage.objects.create(complaint=complaint, kind="progress", text="Looking.")
            appeal = Appeal.objects.create(
                reference=f"APL-2026-{i:06d}", organization=nordlicht, subject="refusal",
                decided_on=make.today(), grounds="The evidence was there.", lodged_by=alice)
            appeal.panel.add(dora)
            AppealAttachment.objects.create(appeal=appeal, filename=f"evidence-{i}.pdf",
                                            file=StoredFile.objects.create(
                                                sha256=f"{i:064x}", size=1,
                                                content_type="application/pdf"))

    staff = client_for(dora)
    assert_flat({
        "API complaints": (staff, "/api/v1/complaints"),
        "API appeals": (staff, "/api/v1/appeals"),
        "API appeals (client)": (client_for(alice), "/api/v1/appeals"),
    }, add)


def test_client_dashboard_does_not_grow_with_applications(nordlicht, alice):
    assert_flat({"client dashboard": (client_for(alice), "/dashboard/")},
                _applications(nordlicht, alice))




def test_client_dashboard_does_not_grow_with_organizations(nordlicht, alice):
    """A client (a group, a consultant's clients) may hold many organizations, each with
    its applications and readiness."""
    def add(n):
        for _ in range(n):
            organization = create_organization(
                actor=alice, legal_name=f"Nordlicht Tochter {Organization.objects.count()}",
                country="DE", registered_address="Hafenstraße 12, 28217 Bremen",
                sector_codes=[17], scope_statement="Die casting.")
            add_site(organization=organization, actor=alice, name="Plant",
                     address="Industrieweg 4", effective_personnel=40)
            _applications(organization, alice)(1)
            readiness.start_gap_assessment(organization=organization, standard="ISO 9001", actor=alice)

    assert_flat({"client dashboard": (client_for(alice), "/dashboard/")}, add, few=1, many=4)
def test_gap_analysis_pages_do_not_grow_with_answers(nordlicht, alice, bob):
    """Rows answered, owned, with evidence and an action: the whole list, a filtered one
    and the several-rows editor on it."""
    assessment = readiness.start_gap_assessment(organization=nordlicht, standard="ISO 9001",
                                                actor=alice)
    rows = list(assessment.items.select_related("clause").order_by("clause__position"))

    def add(n):
        start = assessment.items.exclude(status="not_assessed").count()
        for item in rows[start:start + n]:
            item = readiness.update_gap_item(item=item, actor=alice, expected_version=1,
                                             status="partial", notes="To improve.",
                                             owner_id=bob.pk)
            readiness.add_gap_evidence(item=item, actor=alice, link="https://intranet.example/"
                                       + item.clause.number)
            gap_action(item)

    owner, url = client_for(alice), f"/gap-analysis/{assessment.pk}/"
    assert_flat({
        "gap analysis": (owner, url),
        "filtered": (owner, url + "?status=partial"),
        "several-rows editor": (owner, url + "edit/?status=partial"),
    }, add)
