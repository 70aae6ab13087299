"""Reads on the impartiality register and the committee, scoped to the user: the CB's
administrators and decision makers read them (``read_impartiality``); for anyone else
every page and id is a 404, as if nothing existed."""

import datetime

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from isocert.accounts.models import Organization, User
from isocert.accounts.permissions import can

from .models import (
    CommitteeMeeting,
    CommitteeMember,
    ImpartialityRisk,
    RegisterReview,
)
from .services import register_due_on, risks_due


def reads_register(user) -> bool:
    return can(user, "read_impartiality")


def manages_register(user) -> bool:
    return can(user, "manage_impartiality")


def _ensure_reader(user) -> None:
    if not reads_register(user):
        raise Http404("No such page")


def risks_for_staff(*, user: User, status: str = "", threat: str = "") -> QuerySet:
    """The register, filtered by status and threat (unknown values are ignored)."""
    _ensure_reader(user)
    queryset = ImpartialityRisk.objects.select_related("owner", "organization")
    if status in ImpartialityRisk.Status.values:
        queryset = queryset.filter(status=status)
    if threat in ImpartialityRisk.Threat.values:
        queryset = queryset.filter(threat=threat)
    return queryset


def risk_get(*, user: User, pk) -> ImpartialityRisk:
    return get_object_or_404(risks_for_staff(user=user), pk=pk)


def members_for_staff(*, user: User) -> QuerySet:
    _ensure_reader(user)
    return CommitteeMember.objects.all()


def member_get(*, user: User, pk) -> CommitteeMember:
    return get_object_or_404(members_for_staff(user=user), pk=pk)


def meetings_for_staff(*, user: User) -> QuerySet:
    _ensure_reader(user)
    return CommitteeMeeting.objects.prefetch_related("attendees", "risks_reviewed")


def meeting_get(*, user: User, pk) -> CommitteeMeeting:
    return get_object_or_404(meetings_for_staff(user=user), pk=pk)


def register_reviews(*, user: User) -> QuerySet:
    _ensure_reader(user)
    return RegisterReview.objects.select_related("reviewed_by", "meeting")


def held_meetings(*, user: User) -> QuerySet:
    """Meetings a register review may name: held, or with their minutes approved."""
    return meetings_for_staff(user=user).exclude(status=CommitteeMeeting.Status.PLANNED)


def register_status(*, user: User, today: datetime.date) -> dict | None:
    """The register's queue for the dashboard and the register page: is the periodic review
    due (and since when), and which risks are due for their own review. None for people
    who do not read the register."""
    if not reads_register(user):
        return None
    due_on = register_due_on()
    return {"due_on": due_on, "review_due": due_on is not None and due_on <= today,
            "last_review": RegisterReview.objects.order_by("-reviewed_on", "-pk").first(),
            "risks_due": list(risks_due(today))}


def staff_choices() -> QuerySet[User]:
    """Active CB staff: who may own a risk."""
    return User.objects.filter(is_active=True, staff_roles__isnull=False).distinct() \
        .order_by("full_name", "email")


def organization_choices() -> QuerySet[Organization]:
    return Organization.objects.order_by("legal_name")
