"""Log in through the portal's own pages in a Playwright browser (tests/e2e).

``log_in`` fills allauth's log-in form, passes the authenticator step for CB staff
(``totp=True``) and waits for the page a signed-in user lands on: by default the
dashboard's heading; ``landing=signed_in_message`` for a user without an organization
(an auditor lands on the welcome page), ``landing=None`` to check nothing. ``nav_group``
opens a group of the main navigation (CB staff's links, and everyone's "Account").
"""

import re
import time
from collections.abc import Callable

import pytest
from django.conf import settings
from factories import PASSWORD, client_for, current_totp_code
from playwright.sync_api import Locator, Page, expect


def dashboard(page: Page) -> None:
    """The dashboard's heading is shown."""
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def signed_in_message(page: Page) -> None:
    """allauth's "Successfully signed in as ..." message is shown."""
    expect(page.get_by_text(re.compile(r"^Successfully signed in as "))).to_be_visible()


def log_in(page: Page, email: str, *, password: str = PASSWORD, totp: bool = False,
           landing: Callable[[Page], None] | None = dashboard) -> None:
    """Log ``email`` in on ``page``; with ``totp`` also enter the authenticator code."""
    page.goto("/accounts/login/")
    page.get_by_label("Email:", exact=True).fill(email)
    page.get_by_label("Password:", exact=True).fill(password)
    page.get_by_role("button", name="Sign In").click()
    if totp:
        pass_totp_step(page)
    if landing is not None:
        landing(page)


def sign_in_by_cookie(page: Page, user, base_url: str) -> None:
    """``user``'s session as after the portal's log-in (with the second factor for CB
    staff), without going through its pages: for a test about something else."""
    session = client_for(user).cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session,
                               "url": base_url}])


def pass_totp_step(page: Page) -> None:
    """Enter the authenticator code; allauth refuses a code used before, so on refusal
    (another log-in of this user in the same 30 s) wait for the next period, once."""
    from allauth.mfa import app_settings

    for _attempt in range(2):
        expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
        page.get_by_label(re.compile("code", re.IGNORECASE)).fill(current_totp_code())
        with page.expect_navigation():
            page.get_by_role("button", name="Sign In").click()
        if "/accounts/2fa/authenticate/" not in page.url:
            return
        period = app_settings.TOTP_PERIOD
        time.sleep(period - time.time() % period + 0.2)
    pytest.fail("The authenticator code was refused twice.")


def nav_group(page: Page, name: str) -> Locator:
    """The main navigation's group ``name`` ("Work", "Account", …), opened: its list of
    links (base.html; at a desktop width, where no "Menu" button hides the navigation)."""
    button = page.get_by_role("navigation", name="Main").get_by_role("button", name=name,
                                                                     exact=True)
    if button.get_attribute("aria-expanded") != "true":
        button.click()
    return page.locator("#" + button.get_attribute("aria-controls"))
