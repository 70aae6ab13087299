"""The number of queries of the main pages that ``test_query_counts.py`` does not cover does
not grow with what they show (issue #19; the pages ``bench/cb_pages.py`` times).

Same pattern: build a few objects of the kinds a page shows, count the page's queries, add
more, count again; the counts must be equal. Rows come from the services where a test
helper builds them so, otherwise from the ORM (the services have their own tests).
"""

import datetime
import itertools

import pytest
import queues_helpers as make
from certification_helpers import DECIDED, certified_cycle, closed_audit, decision_ready_cycle
from django.utils import timezone
from factories import client_for, complete_application_data, make_user
from programme_helpers import auditor, cycle_for, quoted_application
from test_query_counts import assert_flat

from isocert.accounts.models import Membership
from isocert.accounts.services import add_site
from isocert.audits.models import Audit, TeamMember
from isocert.catalog.models import Standard
from isocert.certification.models import (
    CertificateRevision,
    CertificateSite,
    CertificateStatusChange,
)
from isocert.complaints.models import Appeal, Complaint, ComplaintMessage
from isocert.complaints.services import lodge_complaint
from isocert.core.models import StoredFile
from isocert.registration.models import ApplicationMessage, ApplicationStandard, Quotation
from isocert.registration.services import create_application, submit_application
from isocert.registry.models import CertificateImport, RegistryExport

pytestmark = pytest.mark.django_db

_numbers = itertools.count(1)


def _site(organization, owner, name: str):
    return add_site(organization=organization, actor=owner, name=name,
                    address=f"{name}, Industriestraße 1, Bremen", effective_personnel=12)


def _applications(organization, owner, n: int) -> None:
    for _ in range(n):
        application = create_application(organization=organization, actor=owner,
                                          **complete_application_data())
        submit_application(application=application, actor=owner)


def _stored(content_type: str = "application/pdf") -> StoredFile:
    return StoredFile.objects.create(sha256=f"{next(_numbers):064x}", size=1,
                                     content_type=content_type)


def test_organization_page_does_not_grow_with_sites_members_and_applications(nordlicht,
                                                                             alice):
    def add(n):
        for _ in range(n):
            i = next(_numbers)
            _site(nordlicht, alice, f"Depot {i}")
            Membership.objects.create(organization=nordlicht, role=Membership.Role.EDITOR,
                                      user=make_user(f"member{i}@nordlicht.example",
                                                     f"Member {i}"))
        _applications(nordlicht, alice, n)

    assert_flat({"organization": (client_for(alice), f"/organizations/{nordlicht.pk}/")},
                add, few=2, many=8)


def test_organization_page_as_the_cb_does_not_grow_with_open_complaints(nordlicht, alice, rita,
                                                                        adam, dora, ada):
    """Nordlicht's page as the CB's record of its client (a complaint handler): more open
    complaints about it — some acknowledged, some past a time target — more certificates'
    sites and applications; as its owner, the same page without complaints."""
    certificate = certified_cycle(nordlicht, alice, rita, adam, dora,
                                  decided=DECIDED).certificates.get()

    def add(n):
        for _ in range(n):
            i = next(_numbers)
            complaint = lodge_complaint(name="Carla Complainant", email="carla@example.com",
                                        subject=f"Late delivery {i}", description="Again.",
                                        certificate_number=certificate.number)
            if i % 2:
                Complaint.objects.filter(pk=complaint.pk).update(
                    status=Complaint.Status.ACKNOWLEDGED,
                    received_at=timezone.now() - datetime.timedelta(days=400))
            _site(nordlicht, alice, f"Depot {i}")
        _applications(nordlicht, alice, n)

    assert_flat({"organization (CB)": (client_for(ada), f"/organizations/{nordlicht.pk}/"),
                 "organization (reviewer)": (client_for(rita),
                                             f"/organizations/{nordlicht.pk}/"),
                 "organization (owner)": (client_for(alice), f"/organizations/{nordlicht.pk}/")},
                add, few=2, many=8)


def test_application_and_review_pages_do_not_grow_with_sites_standards_messages_and_quotations(
        nordlicht, alice, rita):
    """A registered application with its audit time and a quotation: more sites in it, more
    standards (the catalog has five: 1 + 1 against 1 + 4), more messages exchanged, more
    (superseded) quotations and more applications of the organization."""
    application = quoted_application(nordlicht, alice, rita, accept=False)
    issued = application.quotations.get()
    spare = iter(Standard.objects.filter(is_current=True)
                 .exclude(pk__in=application.standard_lines.values("standard"))
                 .order_by("code"))

    def add(n):
        for _ in range(n):
            i = next(_numbers)
            application.sites.add(_site(nordlicht, alice, f"Warehouse {i}"))
            ApplicationStandard.objects.create(application=application, standard=next(spare),
                                               effective_personnel=30)
            ApplicationMessage.objects.create(application=application, author=rita,
                                              kind="information_request", text="The scope?")
            ApplicationMessage.objects.create(application=application, author=alice,
                                              kind="response", text="Die casting.")
            Quotation.objects.create(
                application=application, number=f"{issued.number}-{i}", status="superseded",
                currency=issued.currency, day_rate=issued.day_rate,
                vat_percent=issued.vat_percent, lines=issued.lines,
                net_amount=issued.net_amount, vat_amount=issued.vat_amount,
                total_amount=issued.total_amount, audit_time=issued.audit_time,
                valid_until=issued.valid_until, issued_by=rita, pdf=_stored())
        _applications(nordlicht, alice, n)

    assert_flat({
        "application (client)": (client_for(alice), f"/applications/{application.pk}/"),
        "review detail": (client_for(rita), f"/review/{application.pk}/"),
    }, add, few=1, many=4)


def test_cycle_page_does_not_grow_with_audits_teams_and_sites(nordlicht, alice, rita, adam):
    """The cycle's five audits and more (special audits), each with a team of a lead and
    members (Adam among them) and the organization's sites; as the CB, the client and an
    auditor see it."""
    cycle = cycle_for(nordlicht, alice, rita)

    def add(n):
        for _ in range(n):
            i = next(_numbers)
            _site(nordlicht, alice, f"Plant {i}")
            make.audit(nordlicht, kind="short_notice", start=30 + i, in_cycle=cycle,
                       lead=auditor(f"lead{i}@cb.example", f"Lead {i}", lead=True))
        for audit in cycle.audits.all():
            audit.sites.set(nordlicht.sites.all())
            TeamMember.objects.get_or_create(audit=audit, auditor=adam, role="member")
            for _ in range(n):
                TeamMember.objects.create(audit=audit, role="member", auditor=auditor(
                    f"member{next(_numbers)}@cb.example", "Member"))

    url = f"/cycles/{cycle.pk}/"
    assert_flat({
        "cycle detail (CB)": (client_for(rita), url),
        "cycle detail (client)": (client_for(alice), url),
        "cycle detail (auditor)": (client_for(adam), url),
    }, add, few=2, many=6)


def test_decision_queue_does_not_grow_with_cycles_awaiting_decision(nordlicht, alice, rita,
                                                                    adam, dora):
    def add(n):
        for _ in range(n):
            decision_ready_cycle(nordlicht, alice, rita, adam)

    assert_flat({"decision queue": (client_for(dora), "/cb/decisions/")}, add, few=2, many=6)


def test_decision_page_does_not_grow_with_findings_audits_and_complaints(nordlicht, alice,
                                                                        rita, adam, dora):
    """Two decision pages: the initial decision of a cycle whose stage 2 is closed, and the
    recertification of a certified cycle whose recertification audit is closed. More
    findings of the audit decided on, answered (a corrective action each, its plan
    accepted), more closed audits of the cycles, more open complaints and appeals about the
    client and its certificate."""
    initial = decision_ready_cycle(nordlicht, alice, rita, adam)
    certified = certified_cycle(nordlicht, alice, rita, adam, dora, decided=DECIDED)
    certificate = certified.certificates.get()
    closed_audit(certified.audits.get(kind=Audit.Kind.RECERTIFICATION), lead=adam, owner=alice,
                 end=make.today() - datetime.timedelta(days=20))
    decided = [(initial, initial.audits.get(kind=Audit.Kind.STAGE2)),
               (certified, certified.audits.get(kind=Audit.Kind.RECERTIFICATION))]

    def add(n):
        for _ in range(n):
            i = next(_numbers)
            for cycle, audit in decided:
                finding = make.answered_finding(nordlicht, adam, in_audit=audit)
                finding.status = "plan_accepted"
                finding.save(update_fields=["status"])
                make.audit(nordlicht, kind="short_notice", status="closed", start=-30 - i,
                           in_cycle=cycle, lead=adam, closed=-20)
            complaint = lodge_complaint(name="Carla Complainant", email="carla@example.com",
                                        subject=f"Late delivery {i}", description="Again.")
            Complaint.objects.filter(pk=complaint.pk).update(organization=nordlicht,
                                                             certificate=certificate)
            complaint.audits.add(decided[1][1])
            ComplaintMessage.objects.create(complaint=complaint, kind="progress",
                                            text="Looking.")
            Appeal.objects.create(reference=f"APL-2026-{i:06d}", organization=nordlicht,
                                  certificate=certificate, subject="refusal",
                                  decided_on=make.today(), grounds="The evidence was there.",
                                  lodged_by=alice)

    staff = client_for(dora)
    assert_flat({
        "decision page (initial)": (staff, f"/cb/cycles/{initial.pk}/decision/"),
        "decision page (recertification)": (staff, f"/cb/cycles/{certified.pk}/decision/"),
    }, add, few=2, many=8)


def test_certificate_page_does_not_grow_with_sites_revisions_and_history(nordlicht, alice,
                                                                        rita, adam, dora):
    """The certificate of a granted cycle, as the CB and as its holder see it: more printed
    sites, more revisions, more status changes."""
    cycle = certified_cycle(nordlicht, alice, rita, adam, dora, decided=DECIDED)
    certificate = cycle.certificates.get()
    first = certificate.revisions.get()

    def add(n):
        for _ in range(n):
            i = next(_numbers)
            revision = certificate.revision + 1
            certificate.revisions.update(superseded_at=timezone.now())
            CertificateRevision.objects.create(
                certificate=certificate, revision=revision, reason=f"Scope revised ({i}).",
                content=first.content, signed_data=first.signed_data,
                signature=first.signature, pdf=_stored(), issued_by=dora)
            certificate.revision = revision
            certificate.save(update_fields=["revision"])
            CertificateSite.objects.create(certificate=certificate, position=10 + i,
                                           name=f"Depot {i}", address="Kai 1", country="DE")
            CertificateStatusChange.objects.create(
                certificate=certificate, status="Active", actor=dora,
                date=DECIDED + datetime.timedelta(days=i), reason=f"Revised ({i}).")

    url = f"/certificates/{certificate.pk}/"
    assert_flat({
        "certificate detail (CB)": (client_for(dora), url),
        "certificate detail (client)": (client_for(alice), url),
    }, add, few=2, many=8)


def test_registry_page_does_not_grow_with_exports_and_imports(ada):
    """Finished and running exports and imports, each by another administrator."""
    def add(n):
        for _ in range(n):
            i = next(_numbers)
            by = make_user(f"admin{i}@cb.example", f"Admin {i}", roles=["administrator"])
            RegistryExport.objects.create(format="csv", status="done", created_by=by,
                                          file=_stored("text/csv"), total_rows=3, rows=3)
            make.running_export(by)
            CertificateImport.objects.create(file=_stored("text/csv"), file_name="r.csv",
                                             status="done", created_by=by, total_rows=3,
                                             processed_rows=3, imported_rows=3)
            make.running_import(by)

    assert_flat({"registry (CB)": (client_for(ada), "/cb/registry/")}, add, few=2, many=8)


def test_complaint_list_does_not_grow_with_complaints(nordlicht, ada):
    """Complaints about Nordlicht with a message and an audit, half of them overdue."""
    audit = make.audit(nordlicht)

    def add(n):
        for _ in range(n):
            i = next(_numbers)
            complaint = lodge_complaint(name="Carla Complainant", email="carla@example.com",
                                        subject=f"Late delivery {i}", description="Again.")
            complaint.audits.add(audit)
            ComplaintMessage.objects.create(complaint=complaint, kind="progress", text="Looking.")
            if i % 2:
                Complaint.objects.filter(pk=complaint.pk).update(
                    organization=nordlicht,
                    received_at=timezone.now() - datetime.timedelta(days=60))

    assert_flat({"complaints (CB)": (client_for(ada), "/cb/complaints/")}, add, few=2, many=8)
