"""CB staff act on every client's data: their sessions must have passed the second factor.

ISO/IEC 17021-1 §8.4 requires the CB to protect confidential client information; a
staff password alone must open nothing. Having a TOTP authenticator *configured* is not
enough: the session itself must have been authenticated with it. allauth records each
authentication method a session went through (password, then ``mfa`` after the TOTP
step or a TOTP re-authentication); that record is what these checks read.
"""

from allauth.account.authentication import get_authentication_records
from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.utils import is_mfa_enabled

# What a staff session must have recorded: a code from an authenticator (TOTP or a
# recovery code) at log-in, at re-authentication or when the authenticator was set up.
SECOND_FACTOR_METHOD = "mfa"


def needs_second_factor(user) -> bool:
    """CB staff (any staff role), Django-admin staff and superusers."""
    return bool(user.is_staff or user.is_superuser or user.staff_roles_set)


def has_authenticator(user) -> bool:
    return is_mfa_enabled(user, ["totp"])


def session_passed_second_factor(request, user) -> bool:
    """True when this request's session was authenticated with the user's second factor."""
    return any(record.get("method") == SECOND_FACTOR_METHOD
               for record in get_authentication_records(request, user))


def record_second_factor_on_setup(sender, request, user, authenticator, **kwargs):
    """Setting up a TOTP authenticator takes a valid code from it: the session that did
    so has passed the second factor (allauth records only log-in and re-authentication)."""
    if request is not None and authenticator.type == authenticator.Type.TOTP:
        record_authentication(request, user, SECOND_FACTOR_METHOD,
                              id=authenticator.pk, type=authenticator.type)
