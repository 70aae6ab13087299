"""CB staff sessions must have passed the second factor before any page opens."""

from urllib.parse import urlencode

from django.shortcuts import redirect
from django.urls import reverse

from .second_factor import has_authenticator, needs_second_factor, session_passed_second_factor

# /accounts/: log-in, TOTP set-up and re-authentication themselves. /api/: checked by the
# API's authentication classes (an error shape, not a redirect). /.well-known/ and
# /static/: public files (the certificate signing key, assets).
ALLOWED_PREFIXES = ("/accounts/", "/static/", "/api/", "/.well-known/")


class StaffMFARequiredMiddleware:
    """Send CB staff to their second factor before anything else.

    Clients may turn MFA on; staff handle other organizations' data and must. A staff
    member without an authenticator sets one up (entering a valid code proves it, and
    the set-up records the factor for the session); one whose session was opened by
    password alone — e.g. through Django's own admin log-in — enters a TOTP code first.
    Public pages are not exempt: a staff session is either complete or sent here.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(ALLOWED_PREFIXES)
            and needs_second_factor(user)
            and not session_passed_second_factor(request, user)
        ):
            target = "mfa_reauthenticate" if has_authenticator(user) else "mfa_activate_totp"
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse(target)}?{query}")
        return self.get_response(request)
