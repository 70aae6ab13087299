"""In a real browser: the main navigation (base.html, portal.js; issue #19).

On a 375 px phone Ada's header is one line with a "Menu" button; the menu opens, a group
opens from the keyboard, Escape closes it and gives the focus back to its button, and a
second Escape closes the menu. At a desktop width the groups open and close with the
mouse, one at a time, a click elsewhere closes them, and the current page is marked.
"""

import pytest
from factories import make_user
from helpers.browser import sign_in_by_cookie
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def _ada(new_page, live_server) -> Page:
    ada = make_user("ada@cb.example", "Ada Administrator", roles=["administrator"])
    page = new_page()
    sign_in_by_cookie(page, ada, live_server.url)
    return page


def _box(locator) -> dict:
    box = locator.bounding_box()
    assert box is not None
    return box


def test_on_a_phone_the_header_is_one_line_and_the_menu_works_from_the_keyboard(
        new_page, live_server):
    page = _ada(new_page, live_server)
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto("/dashboard/")
    nav = page.get_by_role("navigation", name="Main")
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(menu).to_have_attribute("aria-controls", "main-nav")
    expect(nav).to_be_hidden()
    # One line: the brand and the button side by side, the bar no taller than either.
    header, brand = _box(page.locator("header.site")), _box(page.locator("header.site .brand"))
    button = _box(menu)
    assert abs((brand["y"] + brand["height"] / 2) - (button["y"] + button["height"] / 2)) < 4
    assert header["height"] < max(brand["height"], button["height"]) + 24

    menu.focus()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(nav).to_be_visible()
    work = nav.get_by_role("button", name="Work", exact=True)
    expect(work).to_have_attribute("aria-expanded", "false")
    expect(nav.get_by_role("link", name="Your work")).to_be_hidden()

    # Space opens a group; the Tab key goes into it; Escape closes it, focus on its button.
    page.keyboard.press("Tab")  # to Dashboard
    page.keyboard.press("Tab")
    expect(work).to_be_focused()
    page.keyboard.press("Space")
    expect(work).to_have_attribute("aria-expanded", "true")
    your_work = nav.get_by_role("link", name="Your work")
    expect(your_work).to_be_visible()
    page.keyboard.press("Tab")
    expect(your_work).to_be_focused()
    page.keyboard.press("Escape")
    expect(work).to_have_attribute("aria-expanded", "false")
    expect(your_work).to_be_hidden()
    expect(work).to_be_focused()

    # Enter opens another group; opening one closes the other.
    administration = nav.get_by_role("button", name="Administration")
    administration.focus()
    page.keyboard.press("Enter")
    expect(administration).to_have_attribute("aria-expanded", "true")
    work.focus()
    page.keyboard.press("Enter")
    expect(work).to_have_attribute("aria-expanded", "true")
    expect(administration).to_have_attribute("aria-expanded", "false")
    expect(nav.get_by_role("link", name="Transitions")).to_be_hidden()

    # Escape closes the group, then the menu, the focus back on the "Menu" button.
    page.keyboard.press("Escape")
    expect(work).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Escape")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_focused()
    expect(nav).to_be_hidden()

    # A link in a group leads to its page, marked as the current one.
    menu.click()
    nav.get_by_role("button", name="Account").click()
    nav.get_by_role("link", name="Security").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/2fa/")
    page.get_by_role("button", name="Menu").click()
    expect(nav.get_by_role("button", name="Account")).to_have_class("nav-group-button current")
    nav.get_by_role("button", name="Account").click()
    expect(nav.get_by_role("link", name="Security")).to_have_attribute("aria-current", "page")


def test_at_a_desktop_width_the_groups_open_and_close(new_page, live_server):
    page = _ada(new_page, live_server)
    page.goto("/dashboard/")
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Dashboard")).to_have_attribute("aria-current", "page")
    groups = {name: nav.get_by_role("button", name=name, exact=True)
              for name in ("Work", "Certification", "Assurance", "Administration", "Account")}
    for button in groups.values():
        expect(button).to_have_attribute("aria-expanded", "false")
    # The whole bar is one line at this width.
    assert _box(page.locator("header.site"))["height"] < 60

    groups["Certification"].click()
    registry = nav.get_by_role("link", name="Registry")
    expect(registry).to_be_visible()
    groups["Assurance"].click()  # one group at a time
    expect(groups["Certification"]).to_have_attribute("aria-expanded", "false")
    expect(registry).to_be_hidden()
    expect(nav.get_by_role("link", name="Impartiality")).to_be_visible()
    groups["Assurance"].click()  # the button closes its own group
    expect(groups["Assurance"]).to_have_attribute("aria-expanded", "false")
    expect(nav.get_by_role("link", name="Impartiality")).to_be_hidden()

    groups["Account"].click()
    log_out = nav.get_by_role("button", name="Log out (ada@cb.example)")
    expect(log_out).to_be_visible()
    page.get_by_role("heading", name="Dashboard").click()  # a click elsewhere closes it
    expect(groups["Account"]).to_have_attribute("aria-expanded", "false")
    expect(log_out).to_be_hidden()

    groups["Administration"].click()
    nav.get_by_role("link", name="Audit trail").click()
    expect(page).to_have_url(f"{live_server.url}/cb/audit-trail/")
    expect(groups["Administration"]).to_have_class("nav-group-button current")
    expect(nav.get_by_role("link", name="Audit trail")).to_be_hidden()
