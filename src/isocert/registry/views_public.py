"""Public pages: verify a certificate (by number, public code or its QR address) and the
directory of certified organizations. No log-in; nothing about the visitor is stored.

Both pages count against the same per-address budget as the public API
(``ratelimit.public_rate_limited``): past it they answer 429 with a short page and
``Retry-After``, before anything is looked up.
"""

from functools import wraps

from django import forms
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from isocert.catalog.models import Country, Standard
from isocert.certification import signing
from isocert.core.dates import display_date
from isocert.core.errors import InvalidInput

from . import directory, lookups, verification
from .ratelimit import public_rate_limited

STATUS_NOTICES = {
    "Suspended": ("This certificate is suspended.",
                  "The certification is temporarily invalid: the organization may not "
                  "advertise it or claim to be certified while it is suspended."),
    "Withdrawn": ("This certificate has been withdrawn.",
                  "The certification has ended: the organization is no longer certified "
                  "and may not refer to this certificate."),
    "Expired": ("This certificate has expired.",
                "Its validity ended and it was not renewed: the organization is no longer "
                "certified under it."),
}
# The signed data's dates (ISO 8601), compared as signed and shown as people read them.
DATE_KEYS = {"i", "e"}


def rate_limited(view):
    """Answer 429 once the client's public budget is spent, without running ``view``."""

    @wraps(view)
    def limited(request, *args, **kwargs):
        wait = public_rate_limited(request)
        if wait is None:
            return view(request, *args, **kwargs)
        response = render(request, "registry/rate_limited.html", {"retry_after": wait},
                          status=429)
        response["Retry-After"] = str(wait)
        return response

    return limited


class LookupForm(forms.Form):
    number = forms.CharField(label="Certificate number", max_length=60,
                             help_text="As printed on the certificate, e.g. ISO50001-2026-000042.")


def verify_lookup(request):
    """The form asking for a number; a valid one goes to that certificate's page."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    form = LookupForm(request.GET or None)
    if form.is_valid():
        return redirect("verify_certificate", number=form.cleaned_data["number"].strip())
    return render(request, "registry/verify_lookup.html", {"form": form})


@rate_limited
def verify_certificate(request, number: str):
    """One certificate's public record; with ``?d=&s=`` also the QR signature check.

    An unknown number answers 404 for every method, so a POST cannot tell known numbers
    from unknown ones either.
    """
    certificate = verification.certificate_for_public(number)
    if certificate is None:
        return render(request, "registry/verify_lookup.html",
                      {"form": LookupForm(initial={"number": number[:60]}),
                       "not_found": number[:60]}, status=404)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    lookups.record_lookup(certificate.id)
    record = verification.public_certificate_dict(certificate)
    context = {
        "record": record,
        "notice": STATUS_NOTICES.get(record["status"]),
        "qr": _qr_check(request, certificate) if "d" in request.GET or "s" in request.GET
        else None,
    }
    return render(request, "registry/verify.html", context)


def _qr_check(request, certificate) -> dict:
    """Is the QR's signature valid, and does what it signed match the registry today?"""

    if not signing.signing_key_available():
        # No key was ever made here, so nothing can have been signed by this portal.
        check = signing.SignatureCheck(valid=False, data=None,
                                       reason="this registry has no signing key yet")
    else:
        check = signing.verify_qr_text(request.build_absolute_uri())
    result = {"valid": check.valid, "reason": check.reason, "differences": []}
    if not check.valid:
        return result
    data = check.data
    registry = {
        "n": ("Certificate number", certificate.number),
        "c": ("Certificate code", certificate.public_code),
        "o": ("Organization", certificate.organization_name),
        "cc": ("Country", certificate.organization_country),
        "st": ("Standards", ", ".join(certificate.standard_labels)),
        "i": ("Issue date", certificate.issue_date.isoformat()),
        "e": ("Expiry date", certificate.expiry_date.isoformat()),
        "r": ("Revision", str(certificate.revision)),
    }
    for key, (label, current) in registry.items():
        if key not in data:
            continue
        printed = ", ".join(data[key]) if isinstance(data[key], list) else str(data[key])
        if printed != current:
            shown = display_date if key in DATE_KEYS else str
            result["differences"].append({"label": label, "printed": shown(printed),
                                          "registry": shown(current)})
    result["outdated_revision"] = str(data.get("r")) != str(certificate.revision)
    result["printed"] = data
    return result


class DirectoryForm(forms.Form):
    q = forms.CharField(label="Organization name", required=False, max_length=100)
    standard = forms.ChoiceField(label="Standard", required=False)
    # Chosen by name; checked by the directory service (any case, two letters), so a link
    # with ``country=de`` still works.
    country = forms.CharField(label="Country", required=False, max_length=10,
                              widget=forms.Select)
    status = forms.ChoiceField(
        label="Status", required=False,
        choices=[("", "Any status"), *[(s, s) for s in directory.STATUSES]])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        codes = sorted(set(Standard.objects.values_list("code", flat=True)))
        self.fields["standard"].choices = [("", "Any standard"), *[(c, c) for c in codes]]
        self.countries = dict(Country.objects.order_by("name").values_list("code", "name"))
        self.fields["country"].widget.choices = [("", "Any country"),
                                                 *self.countries.items()]


@require_GET
@rate_limited
def certificate_directory(request):
    """Search certified organizations; filters and page live in the address (shareable)."""
    form = DirectoryForm(request.GET or None)
    result, filters = None, {}
    if form.is_bound and form.is_valid():
        filters = {k: form.cleaned_data[k] for k in ("q", "standard", "country", "status")}
    if not form.is_bound or form.is_valid():
        try:
            result = directory.search_directory(page=request.GET.get("page") or 1, **filters)
        except InvalidInput as exc:
            for field, message in exc.fields.items():
                form.add_error(field if field in form.fields else None, message)
    context = {"form": form, "result": result, "countries": form.countries}
    if result is not None:
        base = {k: v for k, v in filters.items() if v}

        def page_url(n: int) -> str:
            return f"{reverse('certificate_directory')}?" + urlencode({**base, "page": n})

        if result.page > 1:
            context["previous_url"] = page_url(result.page - 1)
        if result.page < result.pages:
            context["next_url"] = page_url(result.page + 1)
        context["records"] = [verification.public_certificate_dict(c) for c in result.items]
    return render(request, "registry/directory.html", context)
