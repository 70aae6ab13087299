"""The one role → capability map: who holds what, and whom the CB e-mails."""

import pytest
from django.contrib.auth.models import AnonymousUser
from factories import make_user

from isocert.accounts.models import Membership
from isocert.accounts.permissions import (
    STAFF_CAPABILITIES,
    can,
    can_in,
    member_emails,
    member_roles_with,
    staff_emails,
    staff_roles_with,
    staff_with,
)

# Each capability and the roles that held it as the apps' own role lists before the map.
STAFF = {
    "read_applications": {"reviewer", "administrator"},
    "review_applications": {"reviewer"},
    "review_transfers": {"reviewer"},
    "read_energy": {"reviewer", "administrator", "decision_maker"},
    "read_all_audits": {"reviewer", "administrator", "decision_maker"},
    "manage_programme": {"reviewer", "administrator"},
    "audit": {"auditor"},
    "decide": {"decision_maker"},
    "read_certificates": {"decision_maker", "administrator", "reviewer"},
    "manage_certificate_status": {"decision_maker", "administrator"},
    "administer": {"administrator"},
}
MEMBERS = {
    "read": {"owner", "editor", "viewer"},
    "edit": {"owner", "editor"},
    "receive_mail": {"owner", "editor"},
    "manage_members": {"owner"},
}


@pytest.mark.parametrize("capability", sorted(STAFF))
def test_each_staff_capability_names_its_roles(capability):
    assert staff_roles_with(capability) == STAFF[capability]


@pytest.mark.parametrize("capability", sorted(MEMBERS))
def test_each_member_capability_names_its_roles(capability):
    assert member_roles_with(capability) == MEMBERS[capability]


def test_an_unknown_capability_fails_loudly():
    # A typo in an app's ``can(user, "...")`` is an error, not a silent "no".
    with pytest.raises(KeyError):
        staff_roles_with("decides")
    with pytest.raises(KeyError):
        member_roles_with("edits")


def test_can_follows_the_staff_roles(rita, adam, dora, ada, alice):
    assert can(rita, "review_applications") and can(rita, "read_applications")
    assert not can(rita, "decide")
    assert can(adam, "audit") and not can(adam, "read_applications")
    assert can(dora, "decide") and can(dora, "read_energy") and not can(dora, "administer")
    assert can(ada, "administer") and can(ada, "manage_certificate_status")
    assert not can(ada, "review_applications")
    # Client users and visitors hold no staff capability.
    assert not any(can(alice, capability) for capability in STAFF_CAPABILITIES)
    assert not can(AnonymousUser(), "read_applications")


def test_can_in_asks_the_membership_of_that_organization(nordlicht, brightpath, alice, bob,
                                                         charlie, rita):
    viewer = make_user("vera@nordlicht.example", "Vera Viewer")
    Membership.objects.create(organization=nordlicht, user=viewer, role=Membership.Role.VIEWER)
    assert can_in(alice, "manage_members", nordlicht) and can_in(alice, "edit", nordlicht)
    assert can_in(bob, "edit", nordlicht) and not can_in(bob, "manage_members", nordlicht)
    assert can_in(viewer, "read", nordlicht) and not can_in(viewer, "edit", nordlicht)
    # Charlie's ownership is of Brightpath only; staff are no members.
    assert can_in(charlie, "manage_members", brightpath)
    assert not can_in(charlie, "read", nordlicht)
    assert not can_in(rita, "read", nordlicht)
    assert not can_in(AnonymousUser(), "read", nordlicht)


def test_staff_emails_list_active_holders_only(rita, adam, dora, ada):
    other_reviewer = make_user("rex@cb.example", "Rex Reviewer", roles=["reviewer"])
    assert staff_emails("read_applications") == sorted(
        [rita.email, ada.email, other_reviewer.email])
    other_reviewer.is_active = False
    other_reviewer.save(update_fields=["is_active"])
    assert staff_emails("read_applications") == sorted([rita.email, ada.email])
    assert staff_emails("decide") == [dora.email]
    assert list(staff_with("audit")) == [adam]


def test_member_emails_list_active_members_whose_role_carries_the_capability(nordlicht,
                                                                           alice, bob):
    viewer = make_user("vera@nordlicht.example", "Vera Viewer")
    Membership.objects.create(organization=nordlicht, user=viewer, role=Membership.Role.VIEWER)
    assert member_emails(nordlicht.pk) == sorted([alice.email, bob.email])
    assert member_emails(nordlicht.pk, "read") == sorted([alice.email, bob.email, viewer.email])
    bob.is_active = False
    bob.save(update_fields=["is_active"])
    assert member_emails(nordlicht.pk) == [alice.email]
    assert member_emails(None) == []


def test_the_organization_page_offers_editing_to_roles_that_edit(nordlicht, alice, bob,
                                                                  api_client):
    viewer = make_user("vic@nordlicht.example", "Vic Viewer")
    Membership.objects.create(organization=nordlicht, user=viewer, role=Membership.Role.VIEWER)
    for user, edits in ((alice, True), (bob, True), (viewer, False)):
        page = api_client(user).get(f"/organizations/{nordlicht.pk}/").content.decode()
        assert ("Edit profile" in page) is edits
        assert ("Add a site" in page) is edits
