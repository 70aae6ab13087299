"""allauth glue: account e-mails leave through the task queue after commit."""

from functools import partial

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.contrib.sites.shortcuts import get_current_site
from django.core.exceptions import PermissionDenied
from django.db import transaction

from isocert.core.client_address import client_address
from isocert.notifications.tasks import send_rendered_email


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
