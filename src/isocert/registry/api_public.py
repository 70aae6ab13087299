"""The public registry API: verify one certificate, search the directory. No log-in.

Both operations are rate-limited per client address (``PUBLIC_API_RATE``), one budget
shared with the public pages (``ratelimit``).
"""

import json
import logging

from django.contrib.auth.models import AnonymousUser
from django.core import signals
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest
from django.core.signals import setting_changed
from django.http import HttpResponse
from django.middleware.csp import ContentSecurityPolicyMiddleware
from django.middleware.security import SecurityMiddleware
from django.urls import Resolver404, resolve
from django_permissions_policy import PermissionsPolicyMiddleware
from ninja import Field, Query, Router, Schema

from isocert.core.api import ErrorOut, error_json_response

from . import lookups, verification
from .directory import search_directory
from .ratelimit import PUBLIC_THROTTLE, public_rate_limited

logger = logging.getLogger(__name__)
router = Router(tags=["public registry"])


class PublicOrganizationOut(Schema):
    name: str = Field(description="The certified entity as printed.")
    country: str = Field(description="ISO 3166-1 alpha-2.")


class PublicStandardOut(Schema):
    code: str = Field(examples=["ISO 50001"])
    edition: str = Field(examples=["2018"])


class PublicSiteOut(Schema):
    name: str
    address: str
    city: str
    postcode: str
    country: str = Field(description="ISO 3166-1 alpha-2.")
    scope: str = Field(description="This site's part of the scope; empty when it is the "
                                   "certificate's whole scope.")


class CertificationBodyOut(Schema):
    name: str


class PublicStatusChangeOut(Schema):
    status: str = Field(description="Active, Suspended, Withdrawn or Expired.")
    date: str = Field(description="ISO 8601 date.")
    reason: str | None = Field(None, description="Given for suspensions and withdrawals; "
                                                 "absent when none was recorded.")


class PublicCertificateOut(Schema):
    certificate_number: str
    status: str = Field(description="IAF CertSearch status: `Active`, `Suspended` "
                        "(temporarily invalid, may not be advertised), `Withdrawn` or "
                        "`Expired`.")
    organization: PublicOrganizationOut
    standards: list[PublicStandardOut]
    scope: str
    sites: list[PublicSiteOut]
    original_issue_date: str = Field(description="ISO 8601 date of the first issue.")
    issue_date: str = Field(description="ISO 8601 date of the current revision.")
    expiry_date: str = Field(description="ISO 8601 date.")
    certification_body: CertificationBodyOut
    revision: int
    status_history: list[PublicStatusChangeOut] = Field(description="Oldest first.")


class DirectoryOut(Schema):
    items: list[PublicCertificateOut]
    count: int = Field(description="Matching certificates, at most 10,000.")
    count_capped: bool = Field(description="True when more than 10,000 match: only the "
                               "first 10,000 can be paged through; narrow the search.")
    page: int
    pages: int


class DirectoryQuery(Schema):
    q: str = Field("", description="Organization name or words of it; a typo per word "
                   "is forgiven — a letter wrong, missing or extra, or two swapped "
                   "(\"Nordlict\" finds \"Nordlicht Energie GmbH\"). Names containing "
                   "every word come first (those starting with the text before the "
                   "others), then names containing a corrected spelling.",
                   examples=["Nordlict"])
    standard: str = Field("", description='A standard\'s code, e.g. "ISO 50001".')
    country: str = Field("", description="Two-letter country code (ISO 3166-1), e.g. DE.")
    status: str = Field("", description="Active, Suspended, Withdrawn or Expired.")
    page: int = Field(1, description="1 to `pages`; 20 certificates a page.")


EXAMPLE = {
    "certificate_number": "ISO50001-2026-000042",
    "status": "Suspended",
    "organization": {"name": "Nordlicht Energie GmbH", "country": "DE"},
    "standards": [{"code": "ISO 50001", "edition": "2018"}],
    "scope": "Production of aluminium profiles",
    "sites": [{"name": "Werk Nord", "address": "Hafenstraße 4", "city": "Hamburg",
               "postcode": "20457", "country": "DE", "scope": ""}],
    "original_issue_date": "2023-03-01",
    "issue_date": "2026-03-01",
    "expiry_date": "2029-02-28",
    "certification_body": {"name": "isocert Certification Body"},
    "revision": 2,
    "status_history": [
        {"status": "Active", "date": "2023-03-01"},
        {"status": "Suspended", "date": "2026-10-02",
         "reason": "Surveillance audit not carried out within the required time."},
    ],
}
# Keyed by int like the operation's own responses, so ninja merges each example into the
# response it documents (a "200" string key would sit next to 200 and, once rendered as
# JSON, replace it: the schema would be lost).
RESPONSES_DOC = {
    404: {"description": "No certificate has this number or code.",
          "content": {"application/json": {"example": {"error": {
              "code": "not_found", "message": "No certificate has this number.",
              "fields": {}}}}}},
    429: {"description": "Too many requests from this address (`PUBLIC_API_RATE`).",
          "content": {"application/json": {"example": {"error": {
              "code": "rate_limited", "message": "Request was throttled.",
              "fields": {}}}}}},
}


@router.get(
    "/public/certificates", auth=None, throttle=[PUBLIC_THROTTLE],
    response={200: DirectoryOut, 422: ErrorOut, 429: ErrorOut},
    summary="Search the directory of certified organizations",
    description=(
        "The public directory (IAF MD 28 practice): certificates not marked confidential, "
        "filtered by name (typo-tolerant), standard, country and status, 20 a page. "
        "Without `q` in name order. An unknown status, a country that is not two letters, "
        "or a page below 1 or past the last answers 422 `invalid` with `fields` naming "
        "the field, e.g. `{\"status\": \"Choose one of Active, Suspended, Withdrawn, "
        "Expired.\"}`. Counts stop at 10,000 (`count_capped`). No log-in; rate-limited "
        "per client address (429 `rate_limited`)."),
    openapi_extra={"responses": {
        200: {"description": "One page.", "content": {"application/json": {"example": {
            "items": [EXAMPLE], "count": 1, "count_capped": False, "page": 1, "pages": 1}}}},
        429: RESPONSES_DOC[429]}},
)
def directory(request, filters: Query[DirectoryQuery]):
    result = search_directory(filters.q, filters.standard, filters.country,
                                     filters.status, filters.page)
    # Serialized here, like the verification: see ``verify_certificate``.
    return HttpResponse(json.dumps({
        "items": [verification.public_certificate_dict(c) for c in result.items],
        "count": result.count, "count_capped": result.count_capped,
        "page": result.page, "pages": result.pages}), content_type="application/json")


@router.get(
    "/public/certificates/{path:number}", auth=None,
    response={200: PublicCertificateOut, 404: ErrorOut, 429: ErrorOut}, exclude_none=True,
    summary="Verify a certificate",
    description=(
        "The current status and content of one certificate, by the number printed on it "
        "(or the code in its QR address). Anyone may ask (ISO/IEC 17021-1 §9.6): no "
        "log-in. Statuses are IAF CertSearch's: `Active`; `Suspended` — temporarily "
        "invalid, may not be advertised; `Withdrawn`; `Expired`. Confidential "
        "certificates are verifiable by their number but not listed in the directory. "
        "An unknown number answers 404 `not_found`. Each lookup is counted for the "
        "certificate; nothing about the requester is stored. Rate-limited per client "
        "address (429 `rate_limited`)."),
    openapi_extra={"responses": {
        200: {"description": "The certificate.",
              "content": {"application/json": {"example": EXAMPLE}}},
        **RESPONSES_DOC}},
)
def verify_certificate(request, number: str):
    # Rate limit, lookup and count in ``verification_response``: the WSGI front door
    # (``PublicVerificationApp``) answers the same way without the Django stack.
    return verification_response(request, number)


def verification_response(request, number: str) -> HttpResponse:
    """The verification's answer: 429 past the rate limit, 404 for an unknown number or
    code, else the certificate's public record (and the lookup counted).

    Serialized here rather than validated again against ``PublicCertificateOut`` (which
    documents it): the dict is built field by field for this contract, and validating it
    took a quarter of the request's time.
    """
    wait = public_rate_limited(request)
    if wait is not None:
        response = error_json_response(429, "rate_limited", "Too many requests.")
        response["Retry-After"] = str(wait)
        return response
    certificate = verification.certificate_for_public(number)
    if certificate is None:
        return error_json_response(404, "not_found", "Not found.")
    lookups.record_lookup(certificate.id)
    return HttpResponse(json.dumps(verification.public_certificate_dict(certificate)),
                        content_type="application/json")


def _no_response(request):
    return None


class PublicVerificationApp:
    """WSGI front door: the public registry API without the Django stack.

    Serves ``GET``/``HEAD`` of ``/api/v1/public/certificates/{number}`` (the verification)
    and ``/api/v1/public/certificates`` (the directory search). It is the only bypass of
    the middleware: neither needs a session, user, CSRF check, messages or allauth state,
    which would load an empty session and add ``Vary: Cookie``.

    The verification is the portal's most requested read (anyone scanning a QR code,
    IAF CertSearch, tenders checking suppliers), and the full stack — handler, eleven
    middleware, URL resolution, django-ninja's operation — cost twice the answer itself.
    ``isocert.wsgi`` wraps Django's application in this: for that one path it builds
    Django's own request, checks the host against ``ALLOWED_HOSTS`` (``get_host``), runs
    ``SecurityMiddleware`` (HTTPS redirect, HSTS, nosniff, referrer and opener policies)
    and answers with ``verification_response`` — the same function the django-ninja
    operation calls, so rate limit, error shape, lookup counting and body are one code.
    The directory is handed to its django-ninja view directly (found once by ``resolve``),
    so its query validation (422), throttling (429) and error shape are ninja's as on the
    full stack, without the portal's ~300 URL patterns being tried first; its answer also
    gets the Content-Security-Policy and Permissions-Policy headers, as the middleware
    above the session machinery in ``MIDDLEWARE`` sets them on the full stack.
    ``request_started``/``request_finished`` are sent as Django's handler sends them
    (database connections are checked and recycled the same way).

    Other paths and methods, and a disallowed host, are handed to Django unchanged. An
    unexpected error answers 500 in the API's error shape (and is logged) — never handed
    on to Django, which would look up and count the certificate a second time.
    """

    PREFIX = "/api/v1/public/certificates/"
    DIRECTORY = "/api/v1/public/certificates"

    def __init__(self, django_app):
        self.django_app = django_app
        self._security: SecurityMiddleware | None = None
        self._directory = None
        setting_changed.connect(self._settings_changed, weak=False)

    def _settings_changed(self, **kwargs):
        if kwargs.get("setting", "").startswith("SECURE_"):
            self._security = None
        self._directory = None  # the policies and the URLconf are read when it is made

    def security(self) -> SecurityMiddleware:
        """Django's ``SecurityMiddleware``, made again when a ``SECURE_*`` setting changes
        (it reads them when it is made; tests change them)."""
        if self._security is None:
            self._security = SecurityMiddleware(_no_response)
        return self._security

    @classmethod
    def serves(cls, path: str) -> bool:
        """Whether ``path`` is one of the two public operations' (method aside)."""
        return path == cls.DIRECTORY or (path.startswith(cls.PREFIX)
                                         and len(path) > len(cls.PREFIX))

    def directory(self):
        """The directory's django-ninja view behind the policy headers' middleware, or
        ``None`` when the URLconf routes the path elsewhere (then Django answers it)."""
        if self._directory is None:
            try:
                match = resolve(self.DIRECTORY)
            except Resolver404:
                match = None
            if match and match.view_name == "api:directory":
                view = match.func

                def anonymous_view(request):
                    request.user = AnonymousUser()
                    return view(request)

                self._directory = ContentSecurityPolicyMiddleware(
                    PermissionsPolicyMiddleware(anonymous_view))
            else:
                self._directory = False
        return self._directory or None

    def __call__(self, environ, start_response):
        if (environ.get("REQUEST_METHOD") not in ("GET", "HEAD")
                or not self.serves(environ.get("PATH_INFO", ""))):
            return self.django_app(environ, start_response)
        request = WSGIRequest(environ)
        number = request.path_info[len(self.PREFIX):]
        directory = None
        if request.path_info == self.DIRECTORY:
            directory = self.directory()
            if directory is None:
                return self.django_app(environ, start_response)
        elif not number:
            return self.django_app(environ, start_response)
        try:
            request.get_host()
        except DisallowedHost:
            return self.django_app(environ, start_response)  # Django answers 400 and logs it
        signals.request_started.send(sender=self.__class__, environ=environ)
        try:
            security = self.security()
            response = security.process_request(request)
            if response is None and directory is not None:
                response = directory(request)
            elif response is None:
                response = verification_response(request, number)
            response = security.process_response(request, response)
        except Exception:
            # Answered here, never replayed through Django: the lookup and the rate-limit
            # count must not run twice.
            logger.exception("Unhandled error in the public verification")
            response = error_json_response(
                500, "server_error", "Something went wrong on our side; nothing was changed.")
        start_response(f"{response.status_code} {response.reason_phrase}", [
            *response.items(),
            *(("Set-Cookie", c.output(header="")) for c in response.cookies.values())])
        # ``close()`` (by the server, after the body) sends ``request_finished``.
        return response

