"""Privilege changes made in the Django admin are audit-trailed with the administrator.

Each test drives the real admin pages with Ada's session (an administrator who passed
the second factor) and reads the events the change wrote.
"""

from html.parser import HTMLParser

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Group, Permission
from factories import PASSWORD, client_for

from isocert.accounts.models import (
    ClientRelationship,
    DecisionMakerProfile,
    PersonalAccessToken,
    StaffRole,
    User,
)
from isocert.accounts.services import create_access_token, user_for_token
from isocert.audits.models import AuditorProfile
from isocert.catalog.models import Standard
from isocert.core.audit import verify_chain
from isocert.core.models import AuditEvent


class _FormFields(HTMLParser):
    """The values a browser would submit from the page's change form, as it stands."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._select = None
        self._textarea = None
        self._in_form = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("method", "").lower() == "post":
            self._in_form = True
        if not self._in_form:
            return
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button", "file"):
            if attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.data.setdefault(name, []).append(attrs.get("value", "on"))
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in attrs:
            self.data[self._select].append(attrs.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = [""]

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][0] += data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._in_form = False


def form_data(client, url: str) -> dict:
    response = client.get(url)
    assert response.status_code == 200, response
    parser = _FormFields()
    parser.feed(response.content.decode())
    data = parser.data
    data.pop("csrfmiddlewaretoken", None)
    return data


def submit(client, url: str, **changes):
    """Load the admin form, change some fields (None unticks a box), post it back."""
    data = form_data(client, url)
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value if isinstance(value, list) else [value]
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    return response


def events(action: str, **filters):
    return list(AuditEvent.objects.filter(action=action, **filters).order_by("seq"))


@pytest.fixture
def admin_client(ada):
    return client_for(ada)


def user_url(user) -> str:
    return f"/admin/accounts/user/{user.pk}/change/"


def test_making_someone_superuser_is_recorded_with_the_administrator(admin_client, ada, bob):
    submit(admin_client, user_url(bob), is_staff="on", is_superuser="on")

    bob.refresh_from_db()
    assert bob.is_staff and bob.is_superuser
    (event,) = events("accounts.user.privileges_changed")
    assert (event.actor, event.object_type, event.object_id) == (ada, "accounts.user",
                                                                str(bob.pk))
    assert event.payload == {"via": "admin", "user": bob.email, "changes": {
        "is_staff": {"from": False, "to": True},
        "is_superuser": {"from": False, "to": True}}}
    assert verify_chain() is None


def test_deactivating_a_user_is_a_privilege_change(admin_client, bob):
    submit(admin_client, user_url(bob), is_active=None)

    (event,) = events("accounts.user.privileges_changed")
    assert event.payload["changes"] == {"is_active": {"from": True, "to": False}}


def test_a_name_change_is_recorded_as_an_update_and_an_unchanged_save_not_at_all(
        admin_client, bob):
    submit(admin_client, user_url(bob))
    assert not AuditEvent.objects.filter(action__startswith="accounts.user.").exists()

    submit(admin_client, user_url(bob), full_name="Robert Editor")

    (event,) = events("accounts.user.updated")
    assert event.payload["changes"] == {"full_name": {"from": "Bob Editor",
                                                      "to": "Robert Editor"}}
    assert not events("accounts.user.privileges_changed")


def test_a_user_added_in_the_admin_is_recorded_without_the_password(admin_client, ada):
    submit(admin_client, "/admin/accounts/user/add/", email="greta@cb.example",
           password1="a-long-new-passphrase-7", password2="a-long-new-passphrase-7")

    greta = User.objects.get(email="greta@cb.example")
    (event,) = events("accounts.user.created")
    assert event.actor == ada
    assert event.payload["values"]["is_superuser"] is False
    assert "password" not in event.payload["values"]
    assert greta.password not in str(event.payload)


def test_a_staff_role_added_in_the_admin_goes_through_the_service(admin_client, ada, bob):
    url = user_url(bob)
    data = form_data(admin_client, url)
    data.update({"staff_roles-TOTAL_FORMS": ["1"], "staff_roles-0-role": ["administrator"],
                 "staff_roles-0-user": [str(bob.pk)]})

    assert admin_client.post(url, data).status_code == 302

    bob.refresh_from_db()
    assert list(bob.staff_roles.values_list("role", flat=True)) == ["administrator"]
    assert bob.is_staff and bob.is_superuser  # as the service sets them for administrators
    (event,) = events("accounts.staff_role.granted", actor=ada)
    assert event.payload == {"user": bob.email, "role": "administrator"}
    # The flags are the role's doing, recorded with it; the user form changed nothing.
    assert not events("accounts.user.privileges_changed")


def test_a_staff_role_removed_in_the_admin_goes_through_the_service(admin_client, ada, adam):
    url = user_url(adam)
    data = form_data(admin_client, url)
    data["staff_roles-0-DELETE"] = ["on"]

    assert admin_client.post(url, data).status_code == 302

    assert not StaffRole.objects.filter(user=adam).exists()
    (event,) = events("accounts.staff_role.revoked")
    assert (event.actor, event.payload) == (ada, {"user": adam.email, "role": "auditor"})


def test_a_password_set_in_the_admin_is_recorded_and_revokes_the_tokens(admin_client, ada,
                                                                        bob):
    token, secret = create_access_token(actor=bob, name="ERP sync")
    url = f"/admin/accounts/user/{bob.pk}/password/"

    response = admin_client.post(url, {"password1": "another-long-passphrase-9",
                                       "password2": "another-long-passphrase-9",
                                       "usable_password": "true", "set-password": "1"})

    assert response.status_code == 302, response.content.decode()[:2000]
    bob.refresh_from_db()
    assert bob.check_password("another-long-passphrase-9")
    (event,) = events("accounts.user.password_changed")
    assert (event.actor, event.object_id) == (ada, str(bob.pk))
    assert event.payload == {"user": bob.email, "via": "admin",
                             "tokens_revoked": [token.prefix]}
    assert bob.password not in str(event.payload) and "another" not in str(event.payload)
    assert user_for_token(secret) is None
    assert PersonalAccessToken.objects.get(pk=token.pk).revoked_at is not None


def test_a_refused_password_form_records_nothing(admin_client, bob):
    _, secret = create_access_token(actor=bob, name="ERP sync")

    response = admin_client.post(f"/admin/accounts/user/{bob.pk}/password/", {
        "password1": "another-long-passphrase-9", "password2": "does-not-match-9",
        "usable_password": "true"})

    assert response.status_code == 200
    bob.refresh_from_db()
    assert bob.check_password(PASSWORD)
    assert not events("accounts.user.password_changed")
    assert user_for_token(secret) == bob


def test_deleting_a_user_in_the_admin_is_recorded(admin_client, ada, bob):
    response = admin_client.post(f"/admin/accounts/user/{bob.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not User.objects.filter(pk=bob.pk).exists()
    (event,) = events("accounts.user.deleted")
    assert event.actor == ada
    assert event.payload["user"] == "bob@nordlicht.example"


def test_the_delete_selected_action_records_each_user(admin_client, bob, charlie):
    response = admin_client.post("/admin/accounts/user/", {
        "action": "delete_selected", "_selected_action": [bob.pk, charlie.pk], "post": "yes"})

    assert response.status_code == 302
    assert not User.objects.filter(pk__in=[bob.pk, charlie.pk]).exists()
    assert sorted(e.payload["user"] for e in events("accounts.user.deleted")) == [
        "bob@nordlicht.example", "charlie@brightpath.example"]


def test_a_group_permission_change_is_recorded(admin_client, ada):
    group = Group.objects.create(name="Registry editors")
    permission = Permission.objects.get(codename="change_user")

    submit(admin_client, f"/admin/auth/group/{group.pk}/change/",
           permissions=[str(permission.pk)])

    (event,) = events("auth.group.updated")
    assert event.actor == ada
    assert event.payload["changes"] == {"permissions": {"from": [], "to": [str(permission)]}}


def test_an_authenticator_is_only_seen_and_removed_and_its_removal_recorded(admin_client,
                                                                           ada, rita):
    authenticator = Authenticator.objects.get(user=rita, type="totp")
    url = f"/admin/mfa/authenticator/{authenticator.pk}/change/"

    page = admin_client.get(url).content.decode()
    assert authenticator.data["secret"] not in page  # the TOTP secret is not shown
    assert admin_client.get("/admin/mfa/authenticator/add/").status_code == 403

    response = admin_client.post(f"/admin/mfa/authenticator/{authenticator.pk}/delete/",
                                 {"post": "yes"})

    assert response.status_code == 302
    assert not Authenticator.objects.filter(pk=authenticator.pk).exists()
    (event,) = events("mfa.authenticator.deleted")
    assert event.actor == ada
    assert event.payload["values"]["user"] == str(rita)
    assert event.payload["values"]["type"] == "totp"


def test_verifying_an_e_mail_address_in_the_admin_is_recorded(admin_client, ada):
    dave = User.objects.create_user("dave@nordlicht.example", PASSWORD)
    address = EmailAddress.objects.create(user=dave, email=dave.email, verified=False,
                                          primary=True)

    response = admin_client.post("/admin/account/emailaddress/", {
        "action": "make_verified", "_selected_action": [address.pk]})

    assert response.status_code == 302
    address.refresh_from_db()
    assert address.verified
    (event,) = events("account.email_address.updated")
    assert event.actor == ada
    assert event.payload["changes"] == {"verified": {"from": False, "to": True}}


# --- auditor profiles (audits app) ------------------------------------------------------------

def test_an_auditor_qualification_change_is_recorded(admin_client, ada, adam):
    profile = AuditorProfile.objects.create(user=adam, languages="en")
    iso50001 = Standard.objects.get(code="ISO 50001")

    submit(admin_client, f"/admin/audits/auditorprofile/{profile.pk}/change/",
           is_lead_auditor="on", standards=[str(iso50001.pk)])

    (event,) = events("audits.auditor_profile.updated")
    assert (event.actor, event.object_type) == (ada, "audits.auditorprofile")
    assert event.payload["changes"] == {
        "is_lead_auditor": {"from": False, "to": True},
        "standards": {"from": [], "to": [str(iso50001)]}}


def test_a_client_relationship_recorded_for_a_decision_maker_is_recorded(admin_client, ada,
                                                                        dora, nordlicht):
    # Dora is no auditor: the relationship belongs to the person (ISO/IEC 17021-1 §5.2).
    response = admin_client.post("/admin/accounts/clientrelationship/add/", {
        "user": str(dora.pk), "organization": str(nordlicht.pk), "kind": "employment",
        "start_date": "2024-01-15", "end_date": "", "notes": ""})

    assert response.status_code == 302, response.content.decode()[:3000]
    relationship = ClientRelationship.objects.get(user=dora, organization=nordlicht)
    # Declared through the service, which records the one event of the addition.
    (event,) = events("accounts.client_relationship.declared")
    assert (event.actor, event.object_type) == (ada, "accounts.clientrelationship")
    assert event.object_id == str(relationship.pk)
    assert event.payload == {"user": dora.email, "organization": nordlicht.pk,
                             "kind": "employment", "start_date": "2024-01-15",
                             "end_date": None}
    assert events("accounts.client_relationship.created") == []


def test_ending_a_client_relationship_in_the_admin_is_recorded(admin_client, ada, adam,
                                                               nordlicht):
    import datetime

    relationship = ClientRelationship.objects.create(
        user=adam, organization=nordlicht, kind="consultancy",
        start_date=datetime.date(2023, 3, 1))

    submit(admin_client, f"/admin/accounts/clientrelationship/{relationship.pk}/change/",
           end_date="2024-06-30")

    (event,) = events("accounts.client_relationship.updated")
    assert event.actor == ada
    assert event.payload["changes"] == {"end_date": {"from": None, "to": "2024-06-30"}}


def test_a_decision_maker_qualification_change_is_recorded(admin_client, ada, dora):
    profile = DecisionMakerProfile.objects.get(user=dora)
    iso9001 = Standard.objects.get(code="ISO 9001", is_current=True)

    submit(admin_client, f"/admin/accounts/decisionmakerprofile/{profile.pk}/change/",
           standards=[str(iso9001.pk)])

    assert list(profile.standards.all()) == [iso9001]
    (event,) = events("accounts.decision_maker_profile.updated")
    assert (event.actor, event.object_type) == (ada, "accounts.decisionmakerprofile")
    assert event.payload["changes"]["standards"]["to"] == [str(iso9001)]
    assert len(event.payload["changes"]["standards"]["from"]) > 1
