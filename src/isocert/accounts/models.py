"""People, the organizations they act for, and the CB's own staff roles."""

from functools import cached_property

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models import Q

from isocert.core.statemachine import StateMachine


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person; logs in with their e-mail address."""

    username = None
    email = models.EmailField("e-mail address", unique=True)
    full_name = models.CharField(max_length=150, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []
    objects = UserManager()

    def __str__(self) -> str:
        return self.full_name or self.email

    @cached_property
    def staff_roles_set(self) -> set[str]:
        return set(self.staff_roles.values_list("role", flat=True))

    def has_staff_role(self, *roles: str) -> bool:
        return bool(self.staff_roles_set.intersection(roles))


class StaffRole(models.Model):
    """A role the certification body gives one of its people; one may hold several."""

    class Role(models.TextChoices):
        ADMINISTRATOR = "administrator", "Administrator"
        REVIEWER = "reviewer", "Application reviewer"
        AUDITOR = "auditor", "Auditor"
        DECISION_MAKER = "decision_maker", "Decision maker"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="staff_roles")
    role = models.CharField(max_length=20, choices=Role.choices)
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="unique_staff_role")]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()}"


class Organization(models.Model):
    """A client organization: the tenant every client object belongs to."""

    legal_name = models.CharField(max_length=200)
    trading_name = models.CharField(max_length=200, blank=True)
    country = models.ForeignKey("catalog.Country", on_delete=models.PROTECT, related_name="+")
    registered_address = models.TextField()
    legal_identifier = models.CharField(
        max_length=60, blank=True, help_text="Company register or VAT number, if any."
    )
    sectors = models.ManyToManyField("catalog.Sector", blank=True, related_name="organizations")
    scope_statement = models.TextField(
        blank=True, help_text="Activities, products and services the certification should cover."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["legal_name"]

    def __str__(self) -> str:
        return self.trading_name or self.legal_name


class Site(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="sites")
    name = models.CharField(max_length=150)
    address = models.TextField()
    city = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=20, blank=True)
    # Printed on the certificate with the site's address (ISO/IEC 17021-1 §8.2.2: the
    # location of each certified site); a plant abroad is not in the head office's country.
    country = models.ForeignKey("catalog.Country", on_delete=models.PROTECT, related_name="+",
                                help_text="Default: the organization's country.")
    effective_personnel = models.DecimalField(
        max_digits=9, decimal_places=2, help_text="Full-time equivalents working at the site."
    )
    shifts = models.PositiveSmallIntegerField(default=1)
    activities = models.TextField(blank=True)
    is_central_function = models.BooleanField(
        default=False, help_text="The head office that plans and controls the management system."
    )

    class Meta:
        ordering = ["-is_central_function", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization"], condition=Q(is_central_function=True),
                name="one_central_function_per_organization",
            ),
            models.CheckConstraint(condition=Q(effective_personnel__gt=0), name="site_personnel_positive"),
            models.CheckConstraint(condition=Q(shifts__gte=1), name="site_shifts_at_least_one"),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        EDITOR = "editor", "Editor"
        VIEWER = "viewer", "Viewer"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="unique_membership")
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.organization} ({self.role})"


class Invitation(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        REVOKED = "revoked", "Revoked"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Membership.Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} → {self.organization}"


# An invitation is answered once: accepted by the invited address, or revoked by an owner
# (or replaced by a new invitation to the same address).
INVITATION_LIFECYCLE = StateMachine(
    "invitation",
    {
        "accept": ({Invitation.Status.PENDING}, Invitation.Status.ACCEPTED),
        "revoke": ({Invitation.Status.PENDING}, Invitation.Status.REVOKED),
    },
    labels=dict(Invitation.Status.choices),
)


class PersonalAccessToken(models.Model):
    """An API token; only its SHA-256 is stored, the secret is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, help_text="First characters, to recognize the token.")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class ClientRelationship(models.Model):
    """A declared link between one of the CB's people and a client: a threat to
    impartiality. It belongs to the person, whatever their role: nobody who gave the client
    management-system consultancy or worked for it within the cooling-off period may audit
    it or take part in its certification decision (ISO/IEC 17021-1 §5.2, §9.5.1.2; IAF
    MD/ISO 17021-1 §7.2). The audit team and the decision read these rows through
    ``selectors.impartiality_relationships``."""

    class Kind(models.TextChoices):
        CONSULTANCY = "consultancy", "Management-system consultancy"
        EMPLOYMENT = "employment", "Employment"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="client_relationships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True, help_text="Empty while ongoing.")
    notes = models.TextField(blank=True)
    declared_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-start_date", "pk"]
        constraints = [models.CheckConstraint(
            condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
            name="client_relationship_ends_after_start")]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_kind_display()} for {self.organization}"


class DecisionMakerProfile(models.Model):
    """The standards a CB decision maker is competent to decide on (ISO/IEC 17021-1 §7.1.2,
    §9.5.1: the people who decide have the competence for the certification they grant).
    Kept by administrators in the Django admin like auditor qualifications."""

    user = models.OneToOneField(User, on_delete=models.CASCADE,
                                related_name="decision_maker_profile")
    standards = models.ManyToManyField("catalog.Standard", blank=True, related_name="+")
    notes = models.TextField(blank=True, help_text="Evidence of competence, e.g. training.")

    def __str__(self) -> str:
        return f"Decision maker {self.user}"
