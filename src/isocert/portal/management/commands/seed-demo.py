"""Demo data: a CB with staff in every role and two client organizations.

Idempotent: running it again changes nothing that already exists.
"""

import datetime

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from isocert.accounts import services as accounts
from isocert.accounts.models import (
    DecisionMakerProfile,
    Membership,
    Organization,
    StaffRole,
    User,
)
from isocert.audits.models import AuditorProfile
from isocert.catalog.models import Standard
from isocert.certification.demo import seed_certificates
from isocert.complaints.demo import seed_complaints_demo
from isocert.core.demo import DEMO_DOMAIN, DEMO_PASSWORD, DEMO_TOTP_SECRET
from isocert.energy.demo import seed_energy_demo
from isocert.impartiality.demo import seed_impartiality_demo
from isocert.improvement import services as improvement
from isocert.readiness import services as readiness
from isocert.registration import services as registration
from isocert.registration.demo import seed_transfer_demo

STAFF = [
    ("ada", "Ada Administrator", [StaffRole.Role.ADMINISTRATOR]),
    ("rita", "Rita Reviewer", [StaffRole.Role.REVIEWER]),
    ("adam", "Adam Auditor", [StaffRole.Role.AUDITOR]),
    ("dora", "Dora Decider", [StaffRole.Role.DECISION_MAKER]),
]
CLIENTS = [("alice", "Alice Owner"), ("bob", "Bob Editor"), ("charlie", "Charlie Owner")]


def demo_email(name: str) -> str:
    return f"{name}@{DEMO_DOMAIN}"


def _user(name: str, full_name: str) -> User:
    user = User.objects.filter(email=demo_email(name)).first()
    if user is None:
        user = User.objects.create_user(demo_email(name), DEMO_PASSWORD, full_name=full_name)
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def _seed_decision_maker_profile() -> bool:
    """Dora is qualified to decide on every current standard (ISO/IEC 17021-1 §7.1.2)."""
    dora = User.objects.filter(email=demo_email("dora")).first()
    if dora is None or DecisionMakerProfile.objects.filter(user=dora).exists():
        return False
    profile = DecisionMakerProfile.objects.create(
        user=dora, notes="Demo: trained decision maker for every standard the CB certifies.")
    profile.standards.set(Standard.objects.filter(is_current=True))
    return True


class Command(BaseCommand):
    help = "Load demo users, organizations and applications (idempotent)."

    def handle(self, *args, **options):
        call_command("load-catalog", verbosity=0, stdout=self.stdout)
        with transaction.atomic():
            created = self._seed()
            # Also on a demo seeded before decision makers had qualifications: Dora decides
            # on the demo's certificates (and any a visitor takes through the journey).
            created = _seed_decision_maker_profile() or created
            created = seed_certificates() or created  # Nordlicht active, Brightpath suspended
            created = seed_energy_demo() or created  # Nordlicht's meter data and baseline
            # An open complaint about Nordlicht, Brightpath's closed appeal.
            created = seed_complaints_demo() or created
            created = seed_transfer_demo() or created  # Brightpath's transfer under review
            # The impartiality register, its committee and a held meeting.
            created = seed_impartiality_demo() or created
        self.stdout.write(self.style.SUCCESS(
            "Demo data created." if created else "Demo data already present."))
        self.stdout.write(
            f"\nDemo log-ins (password for all: {DEMO_PASSWORD})\n"
            f"  clients: {demo_email('alice')} (owner, Nordlicht Aluminium — ISO 50001), "
            f"{demo_email('bob')} (editor, Nordlicht), {demo_email('charlie')} "
            "(owner, Brightpath Services — ISO 9001)\n"
            f"  CB staff: {demo_email('rita')} (reviewer), {demo_email('ada')} (administrator), "
            f"{demo_email('adam')} (auditor), {demo_email('dora')} (decision maker)\n"
            "  CB staff log in with two-factor authentication; print a current code with\n"
            f"    .venv/bin/isocert demo-totp {demo_email('rita')}\n"
        )

    def _seed(self) -> bool:
        if Organization.objects.filter(legal_name="Nordlicht Aluminium GmbH").exists():
            return False
        staff = {}
        for name, full_name, roles in STAFF:
            user = staff[name] = _user(name, full_name)
            for role in roles:
                accounts.grant_staff_role(user=user, role=role, actor=None)
            if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
                TOTP.activate(user, DEMO_TOTP_SECRET)
        self._seed_auditor_profile(staff["adam"])
        alice, bob, charlie = (_user(n, f) for n, f in CLIENTS)
        rita = staff["rita"]
        today = timezone.localdate()

        nordlicht = accounts.create_organization(
            actor=alice, legal_name="Nordlicht Aluminium GmbH", trading_name="Nordlicht Aluminium",
            country="DE", registered_address="Hafenstraße 12, 28217 Bremen, Germany",
            legal_identifier="HRB 123456 HB", sector_codes=[17],
            scope_statement="Die casting and machining of aluminium components for the " "automotive industry.")
        for site in (
            {"name": "Bremen head office and foundry", "address": "Hafenstraße 12, 28217 Bremen",
             "effective_personnel": "180", "shifts": 3, "is_central_function": True,
             "activities": "Management, melting, die casting"},
            {"name": "Oldenburg machining plant", "address": "Industrieweg 4, 26135 Oldenburg",
             "effective_personnel": "95", "shifts": 2, "activities": "CNC machining"},
            {"name": "Bremerhaven logistics centre", "address": "Kaje 7, 27568 Bremerhaven",
             "effective_personnel": "22", "shifts": 1, "activities": "Warehousing, dispatch"},
        ):
            accounts.add_site(organization=nordlicht, actor=alice, **site)
        Membership.objects.get_or_create(organization=nordlicht, user=bob,
                                         defaults={"role": Membership.Role.EDITOR})

        energy = registration.create_application(organization=nordlicht, actor=alice, **{
            "standards": [{"standard": "ISO 50001", "effective_personnel": "24",
                           "annual_energy_consumption_tj": "310", "energy_types": 3,
                           "significant_energy_uses": 5}],
            "desired_audit_from": today + datetime.timedelta(days=60),
            "desired_audit_to": today + datetime.timedelta(days=90),
        })
        registration.submit_application(application=energy, actor=alice)
        self._seed_readiness(nordlicht, alice, bob, today)
        registration.create_application(organization=nordlicht, actor=bob, **{
            "standards": [{"standard": "ISO 9001", "effective_personnel": "297"},
                          {"standard": "ISO 14001", "effective_personnel": "297",
                           "complexity": "high"}],
        })

        brightpath = accounts.create_organization(
            actor=charlie, legal_name="Brightpath Services Ltd", country="GB",
            registered_address="4 Queen Street, Leeds LS1 2TW, United Kingdom", sector_codes=[35],
            scope_statement="Facility management services for " "office buildings.")
        accounts.add_site(organization=brightpath, actor=charlie, name="Leeds office",
                          address="4 Queen Street, Leeds LS1 2TW", effective_personnel=42,
                          shifts=1)
        quality = registration.create_application(organization=brightpath, actor=charlie, **{
            "standards": [{"standard": "ISO 9001", "effective_personnel": "42"}],
            "desired_audit_from": today + datetime.timedelta(days=30),
        })
        registration.submit_application(application=quality, actor=charlie)
        registration.start_review(application=quality, actor=rita)
        registration.record_preliminary_assessment(application=quality, actor=rita, **{
            "documents_reviewed": True, "scope_clear": True, "sites_personnel_plausible": True,
            "cb_competent": True, "impartiality_risk": "none", "notes": "Single-site service firm.",
        })
        registration.register_application(application=quality, actor=rita)
        registration.determine_audit_time(
            application=quality, actor=rita, sampling_allowed=False,
            adjustments=[{"reason": "Single, low-risk office activity", "percent": "-10"}])
        registration.issue_quotation(application=quality, actor=rita)
        security = registration.create_application(organization=brightpath, actor=charlie, **{
            "standards": [{"standard": "ISO/IEC 27001", "effective_personnel": "42"}],
            "consultancy_used": True, "consultancy_by": "SecureWay Advisors Ltd (J. Smith)",
            "desired_audit_from": today + datetime.timedelta(days=120),
        })
        registration.submit_application(application=security, actor=charlie)
        registration.start_review(application=security, actor=rita)
        registration.request_information(
            application=security, actor=rita,
            message="Please upload your Statement of Applicability and say which sites hold "
                    "the data centre.")
        return True

    def _seed_readiness(self, nordlicht, alice, bob, today) -> None:
        """Nordlicht's ISO 50001 gap analysis under way: energy facts, rows, an action."""
        assessment = readiness.start_gap_assessment(organization=nordlicht, standard="ISO 50001",
                                                    actor=alice)
        readiness.save_energy_facts(assessment=assessment, actor=alice, **{
            "annual_consumption": "86111", "unit": "MWh",
            "energy_types": ["electricity", "natural gas", "diesel"],
            "significant_uses": [{"name": "Melting furnaces", "share_percent": "48"},
                                 {"name": "Die-casting machines", "share_percent": "21"},
                                 {"name": "Compressed air", "share_percent": "9"}],
            "enpis": "kWh per tonne of good castings; m³ gas per tonne melted",
            "baseline": "Calendar year 2025, normalized for tonnes produced",
        })
        answers = {"4.1": "conforms", "4.2": "conforms", "4.3": "conforms",
                   "5.2": "partial", "6.3": "conforms", "6.4": "partial",
                   "6.5": "nonconforming", "9.2": "nonconforming"}
        items = {i.clause.number: i for i in assessment.items.select_related("clause")}
        for number, status in answers.items():
            readiness.update_gap_item(item=items[number], actor=alice, expected_version=1,
                                      **{"status": status, "notes": "Demo answer."})
        improvement.create_action(organization=nordlicht, actor=alice, **{
            "gap_item_id": items["6.5"].pk, "title": "Fix the energy baseline and its "
            "normalization variables", "owner_id": bob.pk,
            "due_date": (today - datetime.timedelta(days=3)).isoformat()})

    def _seed_auditor_profile(self, adam) -> None:
        """Adam leads audits of every standard in the demo clients' sectors."""
        profile, _ = AuditorProfile.objects.get_or_create(
            user=adam, defaults={"is_lead_auditor": True, "languages": "en, de"})
        profile.standards.set(Standard.objects.filter(is_current=True))
        profile.sectors.set([17, 35])

