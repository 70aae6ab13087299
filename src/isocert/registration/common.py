"""Guards, transitions and mail helpers shared by the application services: who may edit,
who reviews, moving the lifecycle with its audit event, and who hears about it."""


from django.urls import reverse

from isocert.accounts.models import User
from isocert.accounts.permissions import can, member_emails, staff_emails
from isocert.accounts.services import ensure_can_edit
from isocert.core.audit import record_event
from isocert.core.errors import Conflict, InvalidInput, NotPermitted

from .models import (
    APPLICATION_LIFECYCLE,
    Application,
)

# --- guards ------------------------------------------------------------------------------------

def ensure_client_editor(application: Application, actor: User) -> None:
    ensure_can_edit(application.organization, actor)


def ensure_reviewer(actor: User) -> None:
    if not can(actor, "review_applications"):
        raise NotPermitted("Only a CB application reviewer can do this.")


def ensure_editable(application: Application) -> None:
    if not application.client_can_edit:
        raise Conflict(
            f"This application is {application.get_status_display().lower()} and cannot be "
            "changed now." + (" It is read-only once registered." if
                             application.status == Application.Status.REGISTERED else "")
        )


def required_text(value, field: str, message: str, hint: str) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput(message, fields={field: hint})
    return text


def transition(application: Application, action: str, actor: User, payload: dict | None = None):
    """Move to the next state, bump the version and write the audit event."""
    old = application.status
    APPLICATION_LIFECYCLE.apply(application, action)
    application.version += 1
    application.save()
    record_event(
        actor=actor, action=f"registration.application.{application.status}", obj=application,
        organization_id=application.organization_id,
        payload={"from": old, "to": application.status, **(payload or {})},
    )


def locked(application: Application) -> Application:
    """Re-read the application under a row lock so two actors can't race a transition."""
    return Application.objects.select_for_update().get(pk=application.pk)


def client_recipients(application: Application) -> list[str]:
    return member_emails(application.organization_id, "receive_mail")


def reviewer_recipients(application: Application) -> list[str]:
    """The assigned reviewer, else every CB reviewer (someone has to pick it up)."""
    if application.reviewer_id:
        return [application.reviewer.email]
    return staff_emails("review_applications")


def mail_context(application: Application, **extra) -> dict:
    return {
        "reference": application.reference,
        "organization": str(application.organization),
        "standards": ", ".join(str(line.standard) for line in application.standard_lines.all()),
        "path": reverse("application_detail", args=[application.pk]),
        **extra,
    }

