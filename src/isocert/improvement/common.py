"""Field cleaners and guards shared by the improvement services: each cleaner returns the
clean value or names the field in the error, so a page shows it beside the field and the
API answers 422 with the one error shape."""


from isocert.accounts.models import Membership, Organization, User
from isocert.catalog.models import Clause, Standard
from isocert.core.errors import Conflict, InvalidInput
from isocert.core.values import optional_int


def clean_text(value, field: str, label: str, *, required=False, limit=2000) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise InvalidInput(f"{label} is required.", fields={field: f"{label} is required."})
    if len(text) > limit:
        raise InvalidInput(f"{label} is too long.", fields={field: f"At most {limit} characters."})
    return text



def clean_standard(value, field: str, errors: dict, *, required: bool) -> Standard | None:
    if isinstance(value, Standard):
        return value
    code = str(value or "").strip()
    if not code:
        if required:
            errors[field] = "Choose a standard."
        return None
    standard = Standard.objects.filter(code=code, is_current=True).first()
    if standard is None:
        errors[field] = f"Unknown standard {code!r}."
    return standard


def clean_clause(value, standard: Standard | None, field: str, errors: dict) -> Clause | None:
    if isinstance(value, Clause):
        return value
    number = str(value or "").strip()
    if not number:
        return None
    if standard is None:
        errors.setdefault("standard", "Choose the standard the clause belongs to.")
        return None
    clause = Clause.objects.filter(standard=standard, number=number).first()
    if clause is None:
        errors[field] = f"{standard.code} has no clause {number}."
    return clause


def clean_member(organization: Organization, value, field: str, errors: dict, *,
            label: str) -> User | None:
    """A user who belongs to the organization (any role), or None when not given."""
    if value in (None, ""):
        return None
    user_id = value.pk if isinstance(value, User) else value
    membership = (Membership.objects.select_related("user")
                  .filter(organization=organization, user_id=optional_int(user_id)).first())
    if membership is None:
        errors[field] = f"{label} must be a member of {organization}."
        return None
    return membership.user


def raise_errors(errors: dict) -> None:
    if errors:
        raise InvalidInput("Please correct the highlighted fields.", fields=errors)


def check_version(obj, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != obj.version:
        raise Conflict("Someone else changed this action meanwhile; reload it and try again.",
                       fields={"version": "Stale version."})
