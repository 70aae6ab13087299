"""Certification decisions and the public registry of certificates (ISO/IEC 17021-1 §8.2,
§9.5, §9.6; IAF MD 28).

A ``Certificate`` row is the registry entry: the current, public state of one
certification. It is either issued here by a decision (``cycle`` set) or imported from
the CB's earlier records (``cycle`` empty). What was printed lives in
``CertificateRevision.content``; every public status change is a
``CertificateStatusChange`` row. The registry is read far more than it is written, so
the public fields (organization, standards, sites) are copied onto the registry rows
instead of being joined from the client's live profile.
"""

from django.conf import settings
from django.db import models

from isocert.core.dates import display_date
from isocert.core.statemachine import StateMachine


class CertificationDecision(models.Model):
    """The independent technical review and decision on one audit's outcome (§9.5)."""

    class Kind(models.TextChoices):
        INITIAL = "initial", "Initial certification"
        RECERTIFICATION = "recertification", "Recertification"
        SCOPE_EXTENSION = "scope_extension", "Scope extension"
        SCOPE_REDUCTION = "scope_reduction", "Scope reduction"
        # IAF MD 2 §2.3: issued after an accepted pre-transfer review (``transfers.issue_transfer``).
        TRANSFER = "transfer", "Transfer from another CB"
        # A transition audit passed: a revision on the new edition (``editions``).
        TRANSITION = "transition", "Edition transition"

    class Outcome(models.TextChoices):
        GRANT = "grant", "Granted"
        REFUSE = "refuse", "Refused"
        DEFER = "defer", "Deferred"

    cycle = models.ForeignKey("audits.CertificationCycle", on_delete=models.PROTECT,
                              related_name="decisions")
    audit = models.ForeignKey("audits.Audit", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+", help_text="The audit whose report was reviewed.")
    certificate = models.ForeignKey("Certificate", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="decisions")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    decision_date = models.DateField()
    reason = models.TextField(blank=True, help_text="Why refused, what is missing, or notes.")
    checks = models.JSONField(default=list, help_text="The checklist as the decision maker "
                              "saw it: [{key, label, ok, detail}].")
    scope = models.TextField(blank=True, help_text="The certified scope after the decision.")
    site_scopes = models.JSONField(default=dict, blank=True,
                                   help_text="{site id: scope of that site}")
    site_ids = models.JSONField(default=list, blank=True,
                                help_text="The certified sites after a grant "
                                "(services.certified_sites).")
    energy_statement = models.TextField(blank=True, help_text="ISO 50001 without energy data "
                                        "in the portal: the decision maker's statement.")
    energy_evidence = models.ForeignKey("core.StoredFile", null=True, blank=True,
                                        on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(auto_now_add=True)

    class Status(models.TextChoices):
        FINAL = "final", "Final"
        REOPENED = "reopened", "Reopened on appeal"

    status = models.CharField(max_length=8, choices=Status.choices, default=Status.FINAL,
                              help_text="Reopened when an appeal against it was upheld "
                              "(ISO/IEC 17021-1 §9.7): the decision is then taken again.")
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopen_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-decided_at", "-pk"]

    def __str__(self) -> str:
        return (f"{self.get_kind_display()} — {self.get_outcome_display()} "
                f"({display_date(self.decision_date)})")


# An upheld appeal reopens the decision appealed (ISO/IEC 17021-1 §9.7); the decision is
# then taken again with ``services.decide``.
DECISION_LIFECYCLE = StateMachine("certification decision", {
    "reopen": ({CertificationDecision.Status.FINAL}, CertificationDecision.Status.REOPENED),
}, labels=dict(CertificationDecision.Status.choices))


class Certificate(models.Model):
    """One certification in the public registry."""

    class Status(models.TextChoices):
        # Values are IAF CertSearch's status words (IAF MD 28), shown as they are.
        ACTIVE = "Active", "Active"
        SUSPENDED = "Suspended", "Suspended"
        WITHDRAWN = "Withdrawn", "Withdrawn"
        EXPIRED = "Expired", "Expired"

    number = models.CharField(max_length=60)
    public_code = models.CharField(max_length=16,
                                   help_text="Random; printed in the QR code's address.")
    identity_number = models.CharField(max_length=60,
                                       help_text="IAF CertSearch certification identity: "
                                       "the CB's stable key for this certification.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    organization = models.ForeignKey("accounts.Organization", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="certificates")
    cycle = models.ForeignKey("audits.CertificationCycle", null=True, blank=True,
                              on_delete=models.PROTECT, related_name="certificates")
    # The certified entity as printed (IAF MD 28 "certified entity").
    entity_id = models.CharField(max_length=45, help_text="The certified entity's unique id.")
    organization_name = models.CharField(max_length=200)
    name_key = models.CharField(max_length=200,
                                help_text="Lower-case, accent-free name for search and order.")
    organization_country = models.CharField(max_length=2)
    organization_address = models.TextField(blank=True)
    legal_identifier = models.CharField(max_length=60, blank=True)
    standards = models.JSONField(default=list, help_text='[{"code": "ISO 9001", '
                                 '"edition": "2015"}]')
    sectors = models.JSONField(default=list, blank=True, help_text="IAF sector codes.")
    scope = models.TextField()
    soa_version = models.CharField(max_length=60, blank=True,
                                   help_text="ISO/IEC 27001: Statement of Applicability version.")
    original_issue_date = models.DateField()
    issue_date = models.DateField(help_text="Effective date of the current revision.")
    expiry_date = models.DateField(db_index=True)
    expiry_before_cap = models.DateField(
        null=True, blank=True, help_text="The cycle's own expiry while ``expiry_date`` is "
        "capped at the transition deadline of a superseded edition; the transition to the "
        "new edition gives it back.")
    decision_date = models.DateField(null=True, blank=True,
                                     help_text="Decision that started the current cycle.")
    revision = models.PositiveIntegerField(default=1)
    suspended_until = models.DateField(null=True, blank=True)
    suspension_reminded_on = models.DateField(null=True, blank=True)
    suspension_end_proposed_on = models.DateField(
        null=True, blank=True, help_text="When the daily run proposed withdrawal or scope "
        "reduction because the suspension ran out; withdrawn automatically "
        "SUSPENSION_WITHDRAWAL_GRACE_DAYS later.")
    suspension_extended_on = models.DateField(
        null=True, blank=True, help_text="The suspension was extended (once) on this day.")
    suspension_extension_reason = models.TextField(blank=True)
    surveillance_flagged_on = models.DateField(null=True, blank=True)
    confidential = models.BooleanField(default=False, help_text="IAF MD 28 confidential flag.")
    lookups = models.PositiveBigIntegerField(default=0, help_text="Public verifications; who "
                                             "looked is never stored.")
    imported = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name_key", "number"]
        # Constraints and indexes declared here rather than with unique=/db_index= on the
        # fields: PostgreSQL then gets no extra LIKE-pattern index per text column, which
        # nothing queries and a million-row import would have to maintain.
        constraints = [
            models.UniqueConstraint(fields=["number"], name="unique_certificate_number"),
            models.UniqueConstraint(fields=["public_code"], name="unique_certificate_code"),
            models.UniqueConstraint(fields=["identity_number"],
                                    name="unique_certificate_identity"),
        ]
        indexes = [models.Index(fields=["status", "name_key"], name="cert_status_name"),
                   models.Index(fields=["name_key"], name="cert_name_key"),
                   models.Index(fields=["organization_country"], name="cert_country")]

    def __str__(self) -> str:
        return f"{self.number} — {self.organization_name}"

    @property
    def standard_labels(self) -> list[str]:
        return [f"{s['code']}:{s['edition']}" for s in self.standards]


_S = Certificate.Status
# The certificate's lifecycle after the decision (ISO/IEC 17021-1 §9.6); every status write
# goes through it (``CERTIFICATE_LIFECYCLE.apply``).
CERTIFICATE_LIFECYCLE = StateMachine("certificate", {
    "suspend": ({_S.ACTIVE}, _S.SUSPENDED),
    "restore": ({_S.SUSPENDED}, _S.ACTIVE),
    # Moves the suspension's end, once; the status stays (``extend_suspension``).
    "extend_suspension": ({_S.SUSPENDED}, _S.SUSPENDED),
    "withdraw": ({_S.ACTIVE, _S.SUSPENDED}, _S.WITHDRAWN),
    "expire": ({_S.ACTIVE, _S.SUSPENDED}, _S.EXPIRED),
    # A recertification grant renews an active certificate, or restores an expired one
    # within the restoration window (§9.6.3); a suspended one is restored first.
    "recertify": ({_S.ACTIVE, _S.EXPIRED}, _S.ACTIVE),
    # An appeal against the withdrawal was upheld (§9.7): the certification is reinstated.
    "reinstate": ({_S.WITHDRAWN}, _S.ACTIVE),
}, labels=dict(_S.choices))
# The transitions CB staff take by hand (the others are the daily run's and the decision's).
MANUAL_CERTIFICATE_ACTIONS = ("suspend", "restore", "extend_suspension", "withdraw")


class CertificateStandard(models.Model):
    """One standard of a certificate, as a row so the directory can filter by it."""

    certificate = models.ForeignKey(Certificate, on_delete=models.CASCADE,
                                    related_name="standard_rows")
    code = models.CharField(max_length=30)
    edition = models.CharField(max_length=10)

    class Meta:
        indexes = [models.Index(fields=["code", "certificate"], name="cert_standard_code")]

    def __str__(self) -> str:
        return f"{self.code}:{self.edition}"


class CertificateSite(models.Model):
    """A certified site and its scope, as printed (§8.2.2: every site of a multi-site)."""

    certificate = models.ForeignKey(Certificate, on_delete=models.CASCADE, related_name="sites")
    # The organization's site this row certifies, so a revision knows which sites are in
    # the certified scope; empty for imported certificates (and once the site is deleted:
    # the printed row stays as it was).
    site = models.ForeignKey("accounts.Site", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=150)
    address = models.TextField()
    city = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2)
    scope = models.TextField(blank=True)
    is_central_function = models.BooleanField(default=False)

    class Meta:
        ordering = ["certificate", "position", "pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.certificate.number})"


class CertificateRevision(models.Model):
    """What one revision of the certificate said; earlier revisions stay downloadable."""

    certificate = models.ForeignKey(Certificate, on_delete=models.CASCADE,
                                    related_name="revisions")
    revision = models.PositiveIntegerField()
    reason = models.CharField(max_length=300)
    content = models.JSONField(help_text="Everything printed on the certificate.")
    signed_data = models.TextField(help_text="The signed essential data carried by the QR code.")
    signature = models.CharField(max_length=120)
    pdf = models.ForeignKey("core.StoredFile", null=True, blank=True, on_delete=models.PROTECT,
                            related_name="+")
    pdf_mark = models.CharField(
        max_length=64, blank=True,
        help_text="SHA-256 of the CB mark the PDF was drawn with: after the mark changes, "
                  "`isocert rerender-certificates` redraws the current revisions whose mark "
                  "differs (and can be stopped and run again).")
    qr_png = models.BinaryField(
        blank=True, default=b"", editable=False,
        help_text="The QR code's image (PNG) of the signed address, drawn with the first PDF: "
                  "finding the QR code's best mask is a quarter of a certificate's drawing, "
                  "and a redraw after a new CB mark reuses it.")
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    issued_at = models.DateTimeField(auto_now_add=True)
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["certificate", "-revision"]
        constraints = [models.UniqueConstraint(fields=["certificate", "revision"],
                                               name="unique_certificate_revision")]

    def __str__(self) -> str:
        return f"{self.certificate.number} rev. {self.revision}"


class CertificateStatusChange(models.Model):
    """The public status history: issued, suspended, restored, withdrawn, expired, revised."""

    certificate = models.ForeignKey(Certificate, on_delete=models.CASCADE,
                                    related_name="status_history")
    status = models.CharField(max_length=10, choices=Certificate.Status.choices)
    date = models.DateField()
    reason = models.TextField(blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["certificate", "date", "pk"]

    def __str__(self) -> str:
        return f"{self.certificate.number}: {self.status} on {display_date(self.date)}"


class TransitionWarning(models.Model):
    """One transition-deadline warning sent about a certificate still on a superseded edition
    (``editions.warn_transition_due``): once per lead time of ``TRANSITION_WARNING_DAYS``."""

    certificate = models.ForeignKey(Certificate, on_delete=models.CASCADE,
                                    related_name="transition_warnings")
    code = models.CharField(max_length=30)
    edition = models.CharField(max_length=10)
    deadline = models.DateField()
    days = models.PositiveIntegerField(help_text="The lead time this warning was for.")
    sent_on = models.DateField()

    class Meta:
        ordering = ["certificate", "-days"]
        constraints = [models.UniqueConstraint(
            fields=["certificate", "code", "edition", "deadline", "days"],
            name="unique_transition_warning")]

    def __str__(self) -> str:
        return f"{self.certificate.number}: {self.code}:{self.edition} {self.days} days"
