"""allauth glue: account e-mails leave through the task queue after commit; a new
password revokes the user's API tokens in the same transaction."""

from functools import partial

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.contrib.sites.shortcuts import get_current_site
from django.core.exceptions import PermissionDenied
from django.db import transaction

from isocert.core.client_address import client_address
from isocert.notifications.tasks import send_rendered_email

from .services import record_password_change

# allauth's password pages, by URL name, as the audit trail names them.
_PASSWORD_PATHS = {
    "account_change_password": "password_change",
    "account_set_password": "password_set",
    "account_reset_password_from_key": "password_reset",
}


class AccountAdapter(DefaultAccountAdapter):
    def get_client_ip(self, request) -> str:
        """The address log-in rate limits count by: the one every other limit uses
        (``TRUSTED_PROXY_COUNT``), so behind the TLS proxy clients are told apart."""
        address = client_address(request)
        if not address:
            raise PermissionDenied("Unable to determine the client's address.")
        return address

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        request = allauth_context.request
        ctx = {"request": request, "email": email, "current_site": get_current_site(request),
               **context}
        message = self.render_mail(template_prefix, email, ctx)
        html = next((body for body, mime in getattr(message, "alternatives", [])
                     if mime == "text/html"), "")
        transaction.on_commit(partial(
            send_rendered_email.enqueue, subject=message.subject, body=message.body,
            html=html, to=list(message.to), from_email=message.from_email,
        ))

    def set_password(self, user, password: str) -> None:
        """Every allauth path that sets a password (change, set, reset by e-mail) ends here:
        the new password and the revocation of the user's tokens commit together."""
        request = allauth_context.request
        match = getattr(request, "resolver_match", None)
        via = _PASSWORD_PATHS.get(getattr(match, "url_name", ""), "account")
        with transaction.atomic():
            super().set_password(user, password)
            record_password_change(user=user, actor=user, via=via)
