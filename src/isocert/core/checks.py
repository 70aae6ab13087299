"""Start-up checks: the portal refuses unsafe production settings instead of inventing
values for them (a missing SECRET_KEY, E001; a missing or unusable certificate signing key,
E002 — a key made per host made servers call each other's certificates forged).

Registered as Django system checks, so every management command that runs checks —
``isocert check --deploy``, ``migrate``, ``runserver``, ``db_worker`` — reports them
and stops; the WSGI and ASGI applications call ``refuse_unsafe_settings`` before they
serve, since servers such as granian run no system checks.
"""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from isocert.core.keys import signing_key_problem


def _secret_key_missing() -> bool:
    try:
        return not settings.SECRET_KEY
    except ImproperlyConfigured:      # Django refuses to hand out an empty key
        return True


def unsafe_settings_errors() -> list[checks.Error]:
    errors = []
    if not settings.DEBUG and _secret_key_missing():
        errors.append(checks.Error(
            "SECRET_KEY is not set, and DEBUG is off.",
            hint="Set SECRET_KEY (a long random string, the same on every server) or "
                 "SECRET_KEY_FILE (a file holding it). For a local installation `make run` "
                 "creates var/secret-key. See docs/security.md.",
            id="isocert.E001",
        ))
    if not settings.DEBUG and (problem := signing_key_problem()):
        errors.append(checks.Error(
            problem,
            hint="Set CERTIFICATE_SIGNING_KEY (an Ed25519 PKCS#8 PEM) or "
                 "CERTIFICATE_SIGNING_KEY_FILE (a file holding it), the same key on every "
                 "server; `isocert signing-key generate --output FILE` makes one. For a local "
                 "installation `make run` creates var/signing-key. See docs/security.md.",
            id="isocert.E002",
        ))
    return errors


@checks.register(checks.Tags.security)
def check_unsafe_settings(app_configs=None, **kwargs):
    return unsafe_settings_errors()


def refuse_unsafe_settings() -> None:
    """Raise with every unsafe setting named (called by the WSGI and ASGI applications)."""
    errors = unsafe_settings_errors()
    if errors:
        raise ImproperlyConfigured("Refusing to start: " + " ".join(
            f"{error.msg} {error.hint} ({error.id})" for error in errors))
