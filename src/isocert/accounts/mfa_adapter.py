"""Two-factor codes: say so when a code was right but already used.

allauth accepts each TOTP code once (``TOTP._mark_code_used``), and a code that was used
stays valid for its whole 30-second window — so a person who logs in twice within the
window, or whose browser sent the form twice, typed a correct code and was told
"Incorrect code.". Its forms raise that one message for every failure; the adapter holds
the messages (``MFA_ADAPTER``) and these forms (``MFA_FORMS``) tell the two cases apart:
a code that is valid right now for one of the user's TOTP authenticators, yet refused,
was refused because it was used already.
"""

from allauth.mfa import app_settings
from allauth.mfa.adapter import DefaultMFAAdapter, get_adapter
from allauth.mfa.base.forms import AuthenticateForm, ReauthenticateForm
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import validate_totp_code
from allauth.mfa.utils import decrypt
from django import forms


class MFAAdapter(DefaultMFAAdapter):
    error_messages = {
        **DefaultMFAAdapter.error_messages,
        "code_already_used": (
            "This code was already used. Wait for the next code in your authenticator app "
            f"(a new one every {app_settings.TOTP_PERIOD} seconds) and enter that one."),
    }

    def is_used_totp_code(self, user, code: str) -> bool:
        """Whether ``code`` is one of the user's current TOTP codes — called once the code
        was refused, so it was refused because it had been used within its window."""
        for authenticator in Authenticator.objects.filter(user=user,
                                                          type=Authenticator.Type.TOTP):
            if validate_totp_code(decrypt(authenticator.data["secret"]), code):
                return True
        return False


class _UsedCodeMixin:
    """``clean_code`` of allauth's form, with the used-code case named."""

    def clean_code(self) -> str:
        try:
            return super().clean_code()
        except forms.ValidationError as exc:
            if exc.code != "incorrect_code":  # e.g. too many attempts: say that
                raise
            adapter = get_adapter()
            code = self.cleaned_data.get("code", "")
            if isinstance(adapter, MFAAdapter) and adapter.is_used_totp_code(self.user, code):
                raise adapter.validation_error("code_already_used") from None
            raise


class UsedCodeAuthenticateForm(_UsedCodeMixin, AuthenticateForm):
    """The log-in's second step."""


class UsedCodeReauthenticateForm(_UsedCodeMixin, ReauthenticateForm):
    """Confirming the second factor again before a sensitive change."""
