"""The public key that checks the signatures in certificates' QR codes."""

from django.http import HttpResponse
from django.views.decorators.http import require_safe

from .signing import public_key_id, public_key_pem


@require_safe
def signing_key(request):
    """The CB's certificate signing public key (PEM), for anyone checking a QR code offline
    (``isocert verify-signature --public-key``). Public by design: no login, any origin."""
    response = HttpResponse(public_key_pem(), content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "public, max-age=3600"
    response["X-Key-Id"] = public_key_id()
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Expose-Headers"] = "X-Key-Id"
    response["X-Content-Type-Options"] = "nosniff"
    return response
