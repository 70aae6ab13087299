"""CB staff must protect their account with a TOTP authenticator."""

from allauth.mfa.utils import is_mfa_enabled
from django.shortcuts import redirect
from django.urls import reverse

# /.well-known/: public machine-readable files (the certificate signing key).
ALLOWED_PREFIXES = ("/accounts/", "/static/", "/api/", "/.well-known/")


class StaffMFARequiredMiddleware:
    """Send CB staff without MFA to the TOTP set-up page before anything else.

    Clients may turn MFA on; staff handle other organizations' data and must.
    The API is exempt here because its tokens are created from a page behind
    this check.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(ALLOWED_PREFIXES)
            and (user.staff_roles_set or user.is_superuser)
            and not is_mfa_enabled(user, ["totp"])
        ):
            return redirect(reverse("mfa_activate_totp") + "?next=" + request.path)
        return self.get_response(request)
