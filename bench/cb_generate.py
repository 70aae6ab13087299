"""A certification body of realistic size, for the page benchmark (``cb_pages.py``).

    ISOCERT_VAR_DIR=/tmp/var-cb .venv/bin/python bench/cb_generate.py --scale 0.05
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_cb .venv/bin/python bench/cb_generate.py

At ``--scale 1`` (issue #19): 5,000 client organizations, 8,000 applications, 40,000 audits,
200,000 findings, 60,000 certificates, 2,000,000 audit-trail events, 300 staff (the cycle
count follows from the audits: the programme plans five audits per cycle).

1. Staff: 300 users in the four CB roles (administrators, reviewers, auditors qualified for
   every standard and sector, decision makers), with the second factor; the cast the
   benchmark logs in as: ``ada``, ``rita``, ``adam``, ``dora`` and the client ``alice``
   (all ``@bench.example``).
2. Template journeys (``cb_journeys.py``): one organization per variant, built through the
   real services — granted, suspended, in stage 2, awaiting decision, surveillance due, in
   review; ISO 9001 / 14001 / 45001 / 27001 / 50001 and an integrated system.
3. Replication: each template's rows (users, organization, sites, applications, review,
   quotation, cycle, audits, checklist, findings, answers, reports, decision, certificate
   with its revision and history) are copied with ``bulk_create`` and remapped foreign
   keys; the staff on each copy are drawn from the pools; registration, quotation and
   certificate numbers come from the project's number sequences (a block reserved per
   template), certificates get fresh public codes and a re-signed revision. The
   template's audit-trail events are appended for each copy (objects and actors remapped,
   repeated to reach the event target) through the trail's own hash function, so
   ``isocert verify-audit-trail`` still verifies the chain. A copy keeps its template's
   dates, except its events (spread over ``EVENT_SPAN_DAYS``), the desired audit dates
   of its applications with no audit scheduled yet (later by up to ``NEW_WORK_SPAN_DAYS``)
   and the days of its audits already held (earlier by up to ``HELD_AUDIT_SPREAD_DAYS``).
4. Certificates of other CBs up to the certificate target: imported through the registry's
   importer from a CSV made by ``registry_generate.py``.

Refuses a database that already has organizations. Tasks (PDF rendering) are not run and
e-mails are not sent while generating.
"""

import argparse
import copy
import datetime
import os
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "src"))
sys.path.insert(0, str(BENCH))

TARGETS = {"organizations": 5000, "applications": 8000, "audits": 40000, "findings": 200000,
           "certificates": 60000, "events": 2000000, "staff": 300}
STAFF_SHARES = {"administrator": 10, "reviewer": 40, "auditor": 200, "decision_maker": 50}
DOMAIN = "bench.example"
CHUNK = 50  # copies per transaction
# The copies' audit-trail events are spread over this many days before now, as a CB's trail
# grows over the years (about 2,200 events a day at full scale), instead of all on the day
# the generator ran: a day filter on the trail then reads a day's events, not millions.
# The copied objects keep their templates' dates, except the one below.
EVENT_SPAN_DAYS = 3 * 365
# A copy's applications with no audit held yet (under review, or a new cycle planned) want
# their initial audits up to this many days later than the template's, drawn per copy: a
# CB's new clients come through the year, not all in the same month. (With one shared date
# every new cycle's stage 1 and stage 2 fell in the work queues' 90-day horizon at once.)
NEW_WORK_SPAN_DAYS = 365
# A copy's audits already held (in progress or closed) took place up to this many days
# earlier than the template's, drawn per copy. With the template's dates 3,610 stage 2
# audits fell on the same two days for 200 auditors (each on some 18 audits at once, which
# the team rules forbid), and the auditor finder read all their team places; spread over
# 90 days a day holds some 40 audits. Decisions, reports and certificates keep their
# dates, so an audit moves further from its decision (at most 90 days), never after it.
HELD_AUDIT_SPREAD_DAYS = 90
# Ids the services put in event payloads (e.g. an application's timeline finds its
# quotations' events by ``payload.application``): remapped to the copy's objects.
PAYLOAD_REFS = {"application": "registration.application", "audit": "audits.audit",
                "cycle": "audits.certificationcycle", "previous_cycle": "audits.certificationcycle",
                "organization": "accounts.organization", "certificate": "certification.certificate",
                "finding": "audits.finding"}


def setup_django():
    """Production-like settings (DEBUG off) with a bench secret and signing key kept in the
    var directory (shared by ``cb_generate.py`` and ``cb_pages.py``)."""
    var = Path(os.environ.setdefault("ISOCERT_VAR_DIR", "/tmp/var-cb-bench"))
    var.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "isocert.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-19-0123456789-abcdefghijklmnop")
    os.environ.setdefault("CERTIFICATE_SIGNING_KEY_FILE", str(var / "bench-signing-key.pem"))
    # No e-mails; tasks (the template certificates' PDFs) are queued, never run here.
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.dummy.EmailBackend"
    import django

    django.setup()
    from isocert.core.keys import write_key_file

    key_file = Path(os.environ["CERTIFICATE_SIGNING_KEY_FILE"])
    if not key_file.exists():
        write_key_file(key_file)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()
    setup_django()
    generate(scale=args.scale, seed=args.seed)


# --- staff -------------------------------------------------------------------------------------

def make_staff(scale_staff: int, rng):
    from allauth.account.models import EmailAddress
    from allauth.mfa.totp.internal.auth import TOTP
    from django.contrib.auth.hashers import make_password

    from isocert.accounts.models import DecisionMakerProfile, User
    from isocert.accounts.services import grant_staff_role
    from isocert.audits.models import AuditorProfile
    from isocert.catalog.models import Sector, Standard

    password = make_password("bench-password-19")
    pools = defaultdict(list)
    total = sum(STAFF_SHARES.values())
    cast = {"administrator": "ada", "reviewer": "rita", "auditor": "adam",
            "decision_maker": "dora"}
    users = []
    for role, share in STAFF_SHARES.items():
        count = max(2, round(scale_staff * share / total))
        for n in range(count):
            name = cast[role] if n == 0 else f"{role.replace('_', '-')}{n:03d}"
            users.append((role, User(email=f"{name}@{DOMAIN}", password=password,
                                     full_name=name.title())))
    User.objects.bulk_create([u for _, u in users])
    EmailAddress.objects.bulk_create([EmailAddress(user=u, email=u.email, verified=True,
                                                   primary=True) for _, u in users])
    standards = list(Standard.objects.filter(is_current=True))
    sectors = list(Sector.objects.all())
    for role, user in users:
        grant_staff_role(user=user, role=role, actor=None)
        TOTP.activate(user, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
        pools[role].append(user.pk)
        if role == "auditor":
            profile = AuditorProfile.objects.create(user=user, is_lead_auditor=True,
                                                    languages="en, de")
            profile.standards.set(standards)
            profile.sectors.set(sectors)
        if role == "decision_maker":
            DecisionMakerProfile.objects.create(user=user).standards.set(standards)
    alice = User(email=f"alice@{DOMAIN}", password=password, full_name="Alice Owner")
    alice.save()
    EmailAddress.objects.create(user=alice, email=alice.email, verified=True, primary=True)
    return pools, {u.pk: u.email for _, u in users}, len(users)


# --- replication -------------------------------------------------------------------------------

def spec():
    """(model, lookup to the organization) in dependency order."""
    from allauth.account.models import EmailAddress

    from isocert.accounts.models import Membership, Organization, Site, User
    from isocert.audits.models import (
        Audit,
        AuditPlan,
        AuditRecord,
        AuditReport,
        CertificationCycle,
        ClauseCoverage,
        CorrectiveActionResponse,
        Finding,
        PlanSession,
        RemoteAudit,
        TeamMember,
    )
    from isocert.certification.models import (
        Certificate,
        CertificateRevision,
        CertificateSite,
        CertificateStandard,
        CertificateStatusChange,
        CertificationDecision,
    )
    from isocert.registration.models import (
        Application,
        ApplicationMessage,
        ApplicationStandard,
        AuditTimeDetermination,
        PreliminaryAssessment,
        Quotation,
    )

    audit = "audit__cycle__organization"
    return [
        (User, "memberships__organization"),
        (EmailAddress, "user__memberships__organization"),
        (Organization, "pk"),
        (Organization.sectors.through, "organization"),
        (Site, "organization"),
        (Membership, "organization"),
        (Application, "organization"),
        (Application.sites.through, "application__organization"),
        (ApplicationStandard, "application__organization"),
        (ApplicationMessage, "application__organization"),
        (PreliminaryAssessment, "application__organization"),
        (AuditTimeDetermination, "application__organization"),
        (Quotation, "application__organization"),
        (CertificationCycle, "organization"),
        (CertificationCycle.standards.through, "certificationcycle__organization"),
        (Audit, "cycle__organization"),
        (Audit.sites.through, audit),
        (TeamMember, audit),
        (AuditPlan, audit),
        (PlanSession, "plan__" + audit),
        (RemoteAudit, audit),
        (AuditRecord, audit),
        (ClauseCoverage, audit),
        (Finding, audit),
        (CorrectiveActionResponse, "finding__" + audit),
        (AuditReport, audit),
        (Certificate, "organization"),
        (CertificateStandard, "certificate__organization"),
        (CertificateSite, "certificate__organization"),
        (CertificateRevision, "certificate__organization"),
        (CertificateStatusChange, "certificate__organization"),
        (CertificationDecision, "cycle__organization"),
    ]


def reserve(name: str, period: str, count: int) -> int:
    """Reserve ``count`` values of a number sequence at once; returns the first."""
    from isocert.core.models import NumberSequence

    NumberSequence.objects.get_or_create(name=name, period=period)
    sequence = NumberSequence.objects.select_for_update().get(name=name, period=period)
    first = sequence.last_value + 1
    sequence.last_value += count
    sequence.save(update_fields=["last_value"])
    return first


def fresh_applications(rows) -> set[int]:
    """The template's applications none of whose audits has been scheduled or held."""
    from isocert.audits.models import Audit, CertificationCycle
    from isocert.registration.models import Application

    cycles = {c.pk: c.application_id for c in rows[CertificationCycle]}
    started = {cycles[a.cycle_id] for a in rows[Audit] if a.start_date}
    return {a.pk for a in rows[Application] if a.pk not in started}


class Numbers:
    """Fresh numbers per copy from blocks reserved in the project's sequences."""

    def __init__(self):
        self.next = {}

    def take(self, name, period, block):
        key = (name, period)
        if key not in self.next or self.next[key][0] > self.next[key][1]:
            first = reserve(name, period, block)
            self.next[key] = [first, first + block - 1]
        value = self.next[key][0]
        self.next[key][0] += 1
        return value


def org_name(rng) -> str:
    from registry_generate import FIRST, SECOND, THIRD

    third = rng.choice(THIRD)
    return " ".join(p for p in (rng.choice(FIRST), rng.choice(SECOND), third, "GmbH") if p)


class Replicator:
    def __init__(self, *, pools, staff_emails, rng):
        from isocert.core.models import AuditChainHead

        self.spec = spec()
        self.pools, self.staff_emails, self.rng = pools, staff_emails, rng
        self.numbers = Numbers()
        head, _ = AuditChainHead.objects.get_or_create(pk=1)
        self.seq, self.last_hash = head.last_seq, head.last_hash
        self.events_written = 0
        self.org_names = {}
        self.fresh, self.later, self.earlier = set(), [], []

    def template_rows(self, organization):
        rows = {}
        for model, lookup in self.spec:
            queryset = model.objects.filter(**{lookup: organization.pk}).distinct()
            rows[model] = list(queryset.order_by("pk"))
        return rows

    def replicate(self, organization, copies: int, *, staff_roles: dict, event_repeats: int):
        from django.db import transaction

        from isocert.core.models import AuditEvent

        rows = self.template_rows(organization)
        self.fresh = fresh_applications(rows)
        events = list(AuditEvent.objects.filter(organization_id=organization.pk).order_by("seq"))
        done = 0
        while done < copies:
            n = min(CHUNK, copies - done)
            # Copy i's events moved back in time, the last copies nearest to now.
            shifts = [datetime.timedelta(days=EVENT_SPAN_DAYS * (1 - (done + k + 0.5) / copies))
                      for k in range(n)]
            with transaction.atomic():
                self._chunk(rows, events, n, staff_roles, event_repeats, shifts)
            done += n

    def _staff_map(self, staff_roles):
        return {pk: self.rng.choice(self.pools[role]) for pk, role in staff_roles.items()}

    def _chunk(self, rows, events, n, staff_roles, event_repeats, shifts):
        from isocert.accounts.models import User

        maps = [defaultdict(dict) for _ in range(n)]
        staff = [self._staff_map(staff_roles) for _ in range(n)]
        emails = [{} for _ in range(n)]
        self.later = [datetime.timedelta(days=self.rng.randrange(NEW_WORK_SPAN_DAYS))
                      for _ in range(n)]
        self.earlier = [datetime.timedelta(days=self.rng.randrange(HELD_AUDIT_SPREAD_DAYS))
                        for _ in range(n)]
        for model, _lookup in self.spec:
            template = rows[model]
            if not template:
                continue
            label = model._meta.label_lower
            fks = [f for f in model._meta.concrete_fields if f.is_relation]
            new = []
            for k in range(n):
                for row in template:
                    clone = copy.copy(row)
                    clone._state = copy.copy(row._state)
                    clone._state.adding, clone._state.db = True, None
                    clone.pk = None
                    for f in fks:
                        old = getattr(row, f.attname)
                        if old is None:
                            continue
                        target = f.related_model._meta.label_lower
                        if old in maps[k][target]:
                            setattr(clone, f.attname, maps[k][target][old])
                        elif f.related_model is User:
                            setattr(clone, f.attname, staff[k].get(old, old))
                    self._fix(label, row, clone, k, maps[k], emails[k])
                    new.append((k, row.pk, clone))
            model.objects.bulk_create([c for _, _, c in new], batch_size=1000)
            for k, old_pk, clone in new:
                maps[k][label][old_pk] = clone.pk
            if label == "accounts.organization":
                self.org_names.update((c.pk, c.legal_name) for _, _, c in new)
            if label == "accounts.user":
                for k, _old, clone in new:
                    emails[k][clone.pk] = clone.email
            if label == "certification.certificate":
                self._entity_ids(new)
            if label == "certification.certificaterevision":
                self._resign([c for _, _, c in new])
        self._events(events, n, maps, staff, emails, event_repeats, shifts)

    def _fix(self, label, row, clone, k, mapping, emails):
        from django.conf import settings
        from django.utils import timezone

        from isocert.certification.names import name_key
        from isocert.certification.services import new_public_code, standard_key

        if label == "accounts.user":
            clone.email = f"c{self.seq}-{k}-{row.email}"
            clone.last_login = None
        elif label == "account.emailaddress":
            clone.email = emails[clone.user_id]
        elif label == "accounts.organization":
            clone.legal_name = org_name(self.rng)
            clone.trading_name = ""
        elif label == "registration.application":
            if row.pk in self.fresh:
                for field in ("desired_audit_from", "desired_audit_to"):
                    if getattr(row, field):
                        setattr(clone, field, getattr(row, field) + self.later[k])
            if row.registration_number:
                year = timezone.localdate(row.registered_at).year
                clone.registration_number = settings.REGISTRATION_NUMBER_FORMAT.format(
                    year=year, seq=self.numbers.take("registration", str(year), 500))
        elif label == "audits.audit" and row.status != "planned" and row.start_date:
            clone.start_date = row.start_date - self.earlier[k]
            clone.end_date = row.end_date and row.end_date - self.earlier[k]
        elif label == "registration.quotation":
            year = row.created_at.year if hasattr(row, "created_at") else timezone.now().year
            clone.number = settings.QUOTATION_NUMBER_FORMAT.format(
                year=year, seq=self.numbers.take("quotation", str(year), 500))
        elif label == "certification.certificate":
            std = standard_key([s["code"] for s in row.standards])
            year = row.decision_date.year
            clone.number = clone.identity_number = settings.CERTIFICATE_NUMBER_FORMAT.format(
                std=std, year=year, seq=self.numbers.take("certificate", f"{std}-{year}", 200))
            clone.public_code = new_public_code()
            clone.organization_name = self.org_names[clone.organization_id]
            clone.name_key = name_key(clone.organization_name)

    def _entity_ids(self, new):
        from isocert.certification.models import Certificate

        for _k, _old, clone in new:
            clone.entity_id = f"ORG-{clone.organization_id}"
        Certificate.objects.bulk_update([c for _, _, c in new], ["entity_id"], batch_size=1000)

    def _resign(self, revisions):
        from django.conf import settings
        from django.urls import reverse

        from isocert.certification import signing
        from isocert.certification.models import Certificate, CertificateRevision

        certificates = Certificate.objects.in_bulk([r.certificate_id for r in revisions])
        for revision in revisions:
            certificate = certificates[revision.certificate_id]
            content = copy.deepcopy(revision.content)
            content.pop("qr_url", None)
            content["number"], content["public_code"] = certificate.number, certificate.public_code
            content["organization"]["name"] = certificate.organization_name
            content["verify_url"] = (settings.SITE_URL
                                     + reverse("verify_certificate", args=[certificate.public_code]))
            signed_data, signature = signing.sign_certificate_data(content)
            content["qr_url"] = signing.qr_url(certificate.public_code, signed_data, signature)
            revision.content, revision.signed_data, revision.signature = (content, signed_data,
                                                                          signature)
        CertificateRevision.objects.bulk_update(revisions, ["content", "signed_data", "signature"],
                                                batch_size=500)

    def _events(self, events, n, maps, staff, emails, repeats, shifts):
        from django.apps import apps

        from isocert.core.audit import _event_hash
        from isocert.core.models import AuditChainHead, AuditEvent

        labels = {}
        batch = []
        for k in range(n):
            org_id = None
            for event in events:
                org_id = maps[k]["accounts.organization"].get(event.organization_id, org_id)
                if event.object_type not in labels:
                    try:
                        labels[event.object_type] = apps.get_model(event.object_type)._meta.label_lower
                    except (LookupError, ValueError):
                        labels[event.object_type] = event.object_type
                target = maps[k].get(labels[event.object_type], {})
                try:
                    object_id = str(target.get(int(event.object_id), event.object_id))
                except ValueError:
                    object_id = event.object_id
                if event.actor_id in maps[k]["accounts.user"]:
                    actor_id = maps[k]["accounts.user"][event.actor_id]
                    label = emails[k][actor_id]
                elif event.actor_id is not None:
                    actor_id = staff[k].get(event.actor_id, event.actor_id)
                    label = self.staff_emails.get(actor_id, event.actor_label)
                else:
                    actor_id, label = None, event.actor_label
                payload = event.payload
                refs = [key for key in PAYLOAD_REFS if isinstance(payload.get(key), int)]
                if refs:  # ids in the payload point at the copy's objects too
                    payload = dict(payload)
                    for key in refs:
                        payload[key] = maps[k][PAYLOAD_REFS[key]].get(payload[key], payload[key])
                for _ in range(repeats):
                    self.seq += 1
                    new = AuditEvent(seq=self.seq, created_at=event.created_at - shifts[k],
                                     actor_id=actor_id, actor_label=label, action=event.action,
                                     object_type=event.object_type, object_id=object_id,
                                     organization_id=org_id, payload=payload,
                                     prev_hash=self.last_hash)
                    new.hash = _event_hash(new)
                    self.last_hash = new.hash
                    batch.append(new)
        AuditEvent.objects.bulk_create(batch, batch_size=2000)
        AuditChainHead.objects.filter(pk=1).update(last_seq=self.seq, last_hash=self.last_hash)
        self.events_written += len(batch)


# --- the run -----------------------------------------------------------------------------------

def counts() -> dict:
    from isocert.accounts.models import Organization, StaffRole
    from isocert.audits.models import Audit, CertificationCycle, Finding
    from isocert.certification.models import Certificate
    from isocert.core.models import AuditEvent
    from isocert.registration.models import Application

    return {"organizations": Organization.objects.count(),
            "applications": Application.objects.count(),
            "cycles": CertificationCycle.objects.count(), "audits": Audit.objects.count(),
            "findings": Finding.objects.count(), "certificates": Certificate.objects.count(),
            "events": AuditEvent.objects.count(),
            "staff": StaffRole.objects.values("user").distinct().count()}


def generate(*, scale: float, seed: int) -> dict:
    from cb_journeys import VARIANTS, Cast, run_journey
    from django.core.management import call_command
    from django.db import connection, transaction

    from isocert.accounts.models import Membership, Organization, User
    from isocert.core.models import AuditEvent

    rng = random.Random(seed)
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    if Organization.objects.exists():
        sys.exit("refused: the database already has organizations (use an empty one)")
    call_command("load-catalog", verbosity=0)
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}, scale {scale}")
    target = {k: max(1, round(v * scale)) for k, v in TARGETS.items()}
    target["staff"] = max(8, target["staff"])
    with transaction.atomic():
        pools, staff_emails, staff_count = make_staff(target["staff"], rng)
    print(f"staff: {staff_count} ({time.perf_counter() - started:.1f} s)")

    users = {u.email.split("@")[0]: u for u in User.objects.filter(
        email__in=[f"{n}@{DOMAIN}" for n in ("rita", "adam", "dora", "alice")])}
    cast = Cast(reviewer=users["rita"], lead=users["adam"], decider=users["dora"])
    staff_roles = {users["rita"].pk: "reviewer", users["adam"].pk: "auditor",
                   users["dora"].pk: "decision_maker"}
    templates = []
    for index, variant in enumerate(VARIANTS, start=1):
        owner = users["alice"] if index == 1 else User.objects.create(
            email=f"owner{index}@{DOMAIN}", full_name=f"Owner {index}",
            password=users["alice"].password)
        with transaction.atomic():
            templates.append((variant, run_journey(variant, index=index, owner=owner,
                                                   cast=cast)))
    # Alice also edits a second template organization, as a client with two organizations.
    Membership.objects.get_or_create(organization=templates[1][1], user=users["alice"],
                                     defaults={"role": Membership.Role.EDITOR})
    print(f"templates: {len(templates)} journeys through the services "
          f"({time.perf_counter() - started:.1f} s)")

    weights = sum(v.weight for v, _ in templates)
    copies_total = max(0, target["organizations"] - len(templates))
    template_events = sum(AuditEvent.objects.filter(organization_id=o.pk).count()
                          for _, o in templates)
    events_per_org = template_events / len(templates)
    repeats = max(1, round(target["events"] / max(1, target["organizations"]) / events_per_org))
    replicator = Replicator(pools=pools, staff_emails=staff_emails, rng=rng)
    made = 0
    for n, (variant, organization) in enumerate(templates):
        copies = (copies_total - made if n == len(templates) - 1
                  else round(copies_total * variant.weight / weights))
        t = time.perf_counter()
        replicator.replicate(organization, copies, staff_roles=staff_roles,
                             event_repeats=repeats)
        made += copies
        print(f"  {variant.name}: {copies} copies in {time.perf_counter() - t:.1f} s")
    print(f"replicated {made} organizations, {replicator.events_written:,} events "
          f"(each template event x{repeats}) ({time.perf_counter() - started:.1f} s)")

    own = counts()["certificates"]
    if target["certificates"] > own:
        import_registry(target["certificates"] - own, seed)
    if connection.vendor == "postgresql":
        # The planner's statistics, as autovacuum gathers them soon after a bulk load in
        # service; without them the work-queue counts took seconds instead of milliseconds.
        # (SQLite gathers none unless asked: it is measured as an installation runs it.)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"total {time.perf_counter() - started:.1f} s")
    result = counts()
    for key, value in result.items():
        goal = target.get(key)
        print(f"  {key:14} {value:>10,}" + (f"   (target {goal:,})" if goal else ""))
    return result


def import_registry(count: int, seed: int) -> None:
    """Other CBs' certificates up to the target, through the registry's importer."""
    from registry_generate import generate as registry_csv

    from isocert.registry.services import create_import_from_path, run_import

    t = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="cb-bench-") as tmp:
        path = Path(tmp) / "registry.csv"
        registry_csv(path, count, seed=seed, prefix="X19")
        certificate_import = create_import_from_path(path=path, actor=None)
        certificate_import = run_import(import_id=certificate_import.pk)
    print(f"registry import: {certificate_import.imported_rows:,} certificates of other CBs "
          f"({certificate_import.status}, {time.perf_counter() - t:.1f} s)")


if __name__ == "__main__":
    main()
