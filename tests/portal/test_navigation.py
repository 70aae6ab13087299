"""The main navigation (base.html, issue #19): staff links in groups, clients' and visitors'
flat; every link shown to exactly whom it was shown before the groups (the capability
map, ``accounts.permissions``), and the current page marked."""

from html.parser import HTMLParser

import pytest
from django.test import Client
from factories import client_for

from isocert.accounts.permissions import STAFF_CAPABILITIES

pytestmark = pytest.mark.django_db

PAGE = "/verify/"  # any page in base.html that every visitor may open


class NavParser(HTMLParser):
    """The main navigation's links and log-out button as (group or None, label, href),
    in order, and the links marked as the current page."""

    def __init__(self):
        super().__init__()
        self.in_nav = False
        self.group = None
        self.depth = 0  # of <ul> inside the navigation
        self.reading = None  # "label", "link" or "button"
        self.text = ""
        self.href = None
        self.entries, self.current, self.menu_buttons = [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "button" and attrs.get("class") == "menu-toggle":
            self.menu_buttons.append(attrs)
        if tag == "nav" and attrs.get("aria-label") == "Main":
            self.in_nav = True
        if not self.in_nav:
            return
        if tag == "ul":
            self.depth += 1
        elif tag == "span" and attrs.get("class") == "nav-group-label":
            self.reading, self.text = "label", ""
        elif tag == "a":
            self.reading, self.text, self.href = "link", "", attrs["href"]
            if attrs.get("aria-current") == "page":
                self.current.append(attrs["href"])
        elif tag == "button":
            self.reading, self.text, self.href = "button", "", None

    def handle_endtag(self, tag):
        if not self.in_nav:
            return
        if tag == "nav":
            self.in_nav = False
        elif tag == "ul":
            self.depth -= 1
            if self.depth == 1:
                self.group = None
        elif tag == "span" and self.reading == "label":
            self.group, self.reading = self.text.strip(), None
        elif tag in {"a", "button"} and self.reading in {"link", "button"}:
            self.entries.append((self.group, self.text.strip(), self.href))
            self.reading = None

    def handle_data(self, data):
        if self.reading:
            self.text += data


def navigation(client, path=PAGE) -> NavParser:
    response = client.get(path)
    assert response.status_code == 200
    parser = NavParser()
    parser.feed(response.content.decode())
    return parser


def holds(capability):
    return lambda roles: bool(STAFF_CAPABILITIES[capability] & roles)


def staff(roles):
    return bool(roles)


def signed_in(roles):
    return True


# Each link, where it goes, and who saw it in the flat menu before the groups (its rule,
# given the user's staff roles), in the flat menu's order.
LINKS = {
    "Estimate audit days": ("/audit-time/", None),
    "Verify a certificate": ("/verify/", None),
    "Directory": ("/directory/", None),
    "Dashboard": ("/dashboard/", signed_in),
    "Your work": ("/work/", staff),
    "Review queue": ("/review/", holds("read_applications")),
    "Audits": ("/audits/", staff),
    "Decisions": ("/cb/decisions/", holds("decide")),
    "Certificates": ("/certificates/", signed_in),
    "Complaints": ("/cb/complaints/", holds("handle_complaints")),
    "Appeals": ("/appeals/", signed_in),
    "Impartiality": ("/impartiality/", holds("read_impartiality")),
    "Registry": ("/cb/registry/", holds("export_registry")),
    "Audit trail": ("/cb/audit-trail/", holds("administer")),
    "Transitions": ("/cb/transitions/", holds("administer")),
    "Admin": ("/admin/", holds("administer")),
    "My declarations": ("/account/declarations/", staff),
    "API tokens": ("/account/tokens/", signed_in),
    "Security": ("/accounts/2fa/", signed_in),
}


def expected(user) -> set[tuple[str, str | None]]:
    if user is None:
        return {(label, href) for label, (href, rule) in LINKS.items() if rule is None} | {
            ("Log in", "/accounts/login/"), ("Sign up", "/accounts/signup/")}
    roles = user.staff_roles_set
    shown = {(label, href) for label, (href, rule) in LINKS.items()
             if rule is None or rule(roles)}
    return shown | {(f"Log out ({user.email})", None)}


@pytest.mark.parametrize("who", ["visitor", "alice", "vera", "rita", "adam", "dora", "ada"])
def test_each_role_sees_the_links_it_saw_before_the_groups(request, who):
    user = None if who == "visitor" else request.getfixturevalue(who)
    client = Client() if user is None else client_for(user)
    entries = navigation(client).entries
    shown = [(label, href) for _group, label, href in entries]
    assert len(shown) == len(set(shown))  # no link twice
    assert set(shown) == expected(user)


def test_staff_links_are_grouped(ada, rita):
    groups = {}
    for group, label, _href in navigation(client_for(ada)).entries:
        groups.setdefault(group, []).append(label)
    assert groups == {
        None: ["Dashboard"],
        "Work": ["Your work", "Review queue", "Audits", "Estimate audit days"],
        "Certification": ["Certificates", "Registry", "Directory", "Verify a certificate"],
        "Assurance": ["Complaints", "Appeals", "Impartiality"],
        "Administration": ["Audit trail", "Transitions", "Admin"],
        "Account": ["My declarations", "API tokens", "Security", "Log out (ada@cb.example)"],
    }
    # A group none of whose links the person may use is not there at all.
    assert "Administration" not in {group for group, _label, _href in
                                    navigation(client_for(rita)).entries}


def test_clients_and_visitors_keep_a_short_flat_menu(alice):
    entries = navigation(client_for(alice)).entries
    assert [label for group, label, _href in entries if group is None] == [
        "Dashboard", "Certificates", "Appeals", "Directory", "Verify a certificate",
        "Estimate audit days"]
    assert [label for group, label, _href in entries if group is not None] == [
        "API tokens", "Security", "Log out (alice@nordlicht.example)"]
    assert {group for group, _label, _href in entries} == {None, "Account"}
    assert {group for group, _label, _href in navigation(Client()).entries} == {None}


def test_the_current_page_is_marked_and_the_menu_button_controls_the_navigation(rita):
    client = client_for(rita)
    assert navigation(client, "/review/").current == ["/review/"]
    assert navigation(client, "/verify/").current == ["/verify/"]
    assert navigation(client, "/work/?queue=reviews_to_start").current == ["/work/"]
    parser = navigation(Client(), "/")
    assert parser.current == []
    assert parser.menu_buttons == [{"type": "button", "class": "menu-toggle",
                                    "aria-expanded": "false", "aria-controls": "main-nav"}]
