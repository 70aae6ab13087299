"""CB staff roles: only administrators grant them; administrators run the Django admin."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from factories import STAFF_TOTP_SECRET, client_for, make_user

from isocert.accounts.models import StaffRole
from isocert.accounts.services import grant_staff_role, revoke_staff_role
from isocert.core.errors import InvalidInput, NotPermitted
from isocert.core.models import AuditEvent


@pytest.fixture
def greta(db):
    """A new CB employee without any role yet, with the authenticator staff must have."""
    user = make_user("greta@cb.example", "Greta Newhire")
    TOTP.activate(user, STAFF_TOTP_SECRET)
    return user


def roles_of(user):
    return sorted(StaffRole.objects.filter(user=user).values_list("role", flat=True))


def test_an_administrator_grants_a_role(ada, greta):
    staff_role = grant_staff_role(user=greta, role="reviewer", actor=ada)

    assert staff_role.role == "reviewer"
    assert roles_of(greta) == ["reviewer"]
    assert greta.has_staff_role("reviewer")
    assert not (greta.is_staff or greta.is_superuser)  # a reviewer is not an admin user
    event = AuditEvent.objects.last()
    assert (event.action, event.actor) == ("accounts.staff_role.granted", ada)
    assert event.payload == {"user": "greta@cb.example", "role": "reviewer"}


def test_granting_twice_keeps_one_role_and_one_event(ada, greta):
    grant_staff_role(user=greta, role="auditor", actor=ada)
    events = AuditEvent.objects.count()

    grant_staff_role(user=greta, role="auditor", actor=ada)

    assert roles_of(greta) == ["auditor"]
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("actor", ["rita", "adam", "dora", "alice"])
def test_no_one_else_grants_roles(request, greta, actor):
    user = request.getfixturevalue(actor)
    events = AuditEvent.objects.count()

    with pytest.raises(NotPermitted):
        grant_staff_role(user=greta, role="administrator", actor=user)
    with pytest.raises(NotPermitted):
        grant_staff_role(user=user, role="decision_maker", actor=user)

    assert roles_of(greta) == []
    greta.refresh_from_db()
    assert not (greta.is_staff or greta.is_superuser)
    assert AuditEvent.objects.count() == events


def test_an_unknown_role_is_refused(ada, greta):
    events = AuditEvent.objects.count()
    with pytest.raises(InvalidInput) as excinfo:
        grant_staff_role(user=greta, role="overlord", actor=ada)
    assert list(excinfo.value.fields) == ["role"]
    assert roles_of(greta) == []
    assert AuditEvent.objects.count() == events


def test_the_administrator_role_opens_the_django_admin(ada, greta):
    refused = client_for(greta).get("/admin/")
    assert (refused.status_code, refused["Location"]) == (302, "/admin/login/?next=/admin/")

    grant_staff_role(user=greta, role="administrator", actor=ada)

    greta.refresh_from_db()
    assert greta.is_staff and greta.is_superuser
    response = client_for(greta).get("/admin/")
    assert response.status_code == 200
    assert "CB administration" in response.content.decode()


def test_revoking_the_administrator_role_closes_the_django_admin(ada, greta):
    grant_staff_role(user=greta, role="administrator", actor=ada)

    revoke_staff_role(user=greta, role="administrator", actor=ada)

    greta.refresh_from_db()
    assert not (greta.is_staff or greta.is_superuser)
    assert roles_of(greta) == []
    assert client_for(greta).get("/admin/")["Location"] == "/admin/login/?next=/admin/"
    assert AuditEvent.objects.last().action == "accounts.staff_role.revoked"


def test_only_an_administrator_revokes(rita, adam):
    events = AuditEvent.objects.count()
    with pytest.raises(NotPermitted):
        revoke_staff_role(user=adam, role="auditor", actor=rita)
    assert roles_of(adam) == ["auditor"]
    assert AuditEvent.objects.count() == events


def test_a_new_administrator_may_grant_in_turn(ada, greta):
    hugo = make_user("hugo@cb.example", "Hugo Hire")
    grant_staff_role(user=greta, role="administrator", actor=ada)

    grant_staff_role(user=hugo, role="reviewer", actor=greta)

    assert roles_of(hugo) == ["reviewer"]
    assert AuditEvent.objects.last().actor == greta
