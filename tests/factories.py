"""Plain helpers for building test state (imported by tests and by conftest.py).

Kept out of conftest.py: pytest imports every conftest.py as the module
``conftest``, so ``from factories import ...`` would pick whichever was loaded last.
"""

import datetime
import io
import time
import zipfile

from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.account.internal.flows.login import _AUTHENTICATION_METHODS_USER_SESSION_KEY
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from isocert.accounts.second_factor import has_authenticator

STAFF_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
PASSWORD = "correct-horse-battery-staple"


def current_totp_code() -> str:
    """The code staff's authenticator shows now (the middle of allauth's tolerance window)."""
    counters = list(yield_hotp_counters_from_time())  # [now - tolerance .. now + tolerance]
    return format_hotp_value(hotp_value(STAFF_TOTP_SECRET, counters[len(counters) // 2]))


def make_user(email: str, full_name: str = "", *, roles=(), verified=True):
    from isocert.accounts.models import User
    from isocert.accounts.services import grant_staff_role

    user = User.objects.create_user(email, PASSWORD, full_name=full_name)
    EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
    for role in roles:
        grant_staff_role(user=user, role=role, actor=None)
    if roles:
        TOTP.activate(user, STAFF_TOTP_SECRET)
    if "decision_maker" in roles:
        qualify_decision_maker(user)
    return user


def qualify_decision_maker(user, standards=None):
    """The decision maker's qualification (every current standard unless ``standards``
    names codes): ``decide`` refuses a standard it lacks. Tests of that refusal narrow it."""
    from isocert.accounts.models import DecisionMakerProfile
    from isocert.catalog.models import Standard

    profile, _ = DecisionMakerProfile.objects.get_or_create(user=user)
    current = Standard.objects.filter(is_current=True)
    profile.standards.set(current.filter(code__in=standards) if standards is not None
                          else current)
    return profile


ENERGY_LINE = {"standard": "ISO 50001", "effective_personnel": "24",
               "annual_energy_consumption_tj": "310", "energy_types": 3,
               "significant_energy_uses": 5}


def complete_application_data(**overrides) -> dict:
    data = {
        "standards": [ENERGY_LINE],
        "desired_audit_from": timezone.localdate() + datetime.timedelta(days=60),
        "desired_audit_to": timezone.localdate() + datetime.timedelta(days=90),
    }
    data.update(overrides)
    return data


PASSING_ASSESSMENT = {"documents_reviewed": True, "scope_clear": True,
                      "sites_personnel_plausible": True, "cb_competent": True,
                      "impartiality_risk": "none", "notes": ""}


def nordlicht_two_sites(owner, *, shifts: int):
    """Nordlicht Aluminium (IAF sector 17) with its Bremen head office and Oldenburg plant,
    15 persons each working ``shifts`` shifts; ``owner`` creates it and owns it."""
    from isocert.accounts.services import add_site, create_organization

    organization = create_organization(actor=owner, legal_name="Nordlicht Aluminium GmbH",
                                       country="DE",
                                       registered_address="Hafenstraße 12, 28217 Bremen",
                                       sector_codes=[17],
                                       scope_statement="Die casting of aluminium parts.")
    for name, address in (("Bremen head office", "Hafenstraße 12, Bremen"),
                          ("Oldenburg plant", "Industrieweg 4, Oldenburg")):
        add_site(organization=organization, actor=owner, name=name, address=address,
                 effective_personnel=15, shifts=shifts)
    return organization


def apply_for(organization, owner, reviewer, standards, *, register: bool):
    """An application of ``organization`` for ``standards`` (complete otherwise), submitted
    by ``owner`` and taken into review by ``reviewer``; with ``register``, registered too."""
    from isocert.registration.services import (
        create_application,
        record_preliminary_assessment,
        register_application,
        start_review,
        submit_application,
    )

    application = create_application(organization=organization, actor=owner,
                                      **complete_application_data(standards=standards))
    submit_application(application=application, actor=owner)
    start_review(application=application, actor=reviewer)
    if register:
        record_preliminary_assessment(application=application, actor=reviewer,
                                      **PASSING_ASSESSMENT)
        register_application(application=application, actor=reviewer)
    application.refresh_from_db()
    return application


def client_for(user, *, second_factor: bool = True) -> Client:
    """A test client logged in as ``user`` as after the portal's log-in: by password and,
    when ``second_factor`` and the user has an authenticator, its code (CB staff sessions
    need the second factor; ``second_factor=False`` is a password-only session)."""
    client = Client()
    client.force_login(user)
    now = time.time()
    methods = [{"method": "password", "at": now, "email": user.email}]
    if second_factor and has_authenticator(user):
        methods.append({"method": "mfa", "at": now, "type": "totp"})
    session = client.session
    session[AUTHENTICATION_METHODS_SESSION_KEY] = methods
    session[_AUTHENTICATION_METHODS_USER_SESSION_KEY] = str(user.pk)
    session.save()
    return client


def pdf_upload(name="manual.pdf") -> SimpleUploadedFile:
    data = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def docx_upload(name="process-map.docx") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/octet-stream")
