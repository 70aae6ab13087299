"""How the API knows who calls: the browser session or a personal access token.

CB staff act on every client's data: neither way lets them in without their second
factor (``second_factor``). ``isocert.portal.api`` passes both to the NinjaAPI.
"""

from ninja.errors import HttpError
from ninja.security import HttpBearer, SessionAuth

from .second_factor import has_authenticator, needs_second_factor, session_passed_second_factor
from .services import user_for_token


def _ensure_staff_mfa(user):
    """CB staff act on every client's data: no API access without their second factor."""
    if user and needs_second_factor(user) and not has_authenticator(user):
        raise HttpError(403, "CB staff must set up two-factor authentication first.")
    return user


class PortalSessionAuth(SessionAuth):
    """The browser session (CSRF-checked). A staff session must have passed the second
    factor itself: a password-only session (e.g. Django's admin log-in) is refused."""

    def authenticate(self, request, key):
        user = _ensure_staff_mfa(super().authenticate(request, key))
        if user and needs_second_factor(user) and not session_passed_second_factor(request, user):
            raise HttpError(403, "Confirm your log-in with your authenticator code first "
                                 "(/accounts/2fa/reauthenticate/).")
        return user


class TokenAuth(HttpBearer):
    """``Authorization: Bearer isc_...`` — a personal access token."""

    def authenticate(self, request, token):
        user = _ensure_staff_mfa(user_for_token(token))
        if user is not None:
            request.user = user
        return user
