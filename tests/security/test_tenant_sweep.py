"""The cross-tenant sweep: Charlie (Brightpath) must see and change nothing of Alice's.

Every URL pattern in the resolver and every operation of the OpenAPI document
is requested as Charlie with the ids of Alice's objects. Each answer must be a
404 — as if the object did not exist — never 200, 403 or 500, and afterwards
Alice's objects must be exactly as before.

The sweep refuses to pass if a pattern or operation it doesn't know about
appears: map its parameters below (or list it as exempt, with the reason).
"""

import datetime
import itertools
import re
from dataclasses import dataclass, field

import pytest
import sweep_audits_conduct  # the audit conduct's part of the sweep
import sweep_audits_programme  # the audit programme's part of the sweep
import sweep_certification  # the decision and certificates' part of the sweep
import sweep_complaints  # complaints and appeals' part of the sweep
import sweep_energy  # ISO 50001 energy performance's part of the sweep
import sweep_impartiality  # the impartiality register and committee (CB staff only)
import sweep_improvement  # a sibling module: the improvement app's part of the sweep
import sweep_readiness  # the readiness app's part of the sweep
import sweep_registry  # the registry's import and export (CB staff only)
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLResolver, get_resolver
from django.utils import timezone

from isocert.accounts import services as account_services
from isocert.accounts.models import Invitation, Membership, PersonalAccessToken, Site
from isocert.core.models import AuditEvent
from isocert.portal.api import api
from isocert.registration import services as registration_services
from isocert.registration.models import (
    Application,
    ApplicationDocument,
    ApplicationMessage,
    AuditTimeDetermination,
    PreliminaryAssessment,
    Quotation,
    TransferReview,
)
from isocert.registration.views import STEP_KEYS, TRANSITIONS

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
NOT_FOUND = {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}
MISSING_ID = 987_654_321

# Not swept: other packages' pages (allauth's sign-up/login/MFA, the Django admin) and files.
SKIPPED_PREFIXES = ("accounts/", "admin/", "static/", "media/")

# --- HTML pages ---------------------------------------------------------------------------------
# The object type each page's integer ``pk`` names. Spelled out per page, not guessed from
# the name's prefix: ``site_create`` and ``application_create`` take an organization,
# ``document_upload`` and ``review_*`` an application.
HTML_PK_KINDS = {
    "organization_detail": "organization",
    "organization_edit": "organization",
    "site_create": "organization",
    "members": "organization",
    "application_create": "organization",
    "site_edit": "site",
    "site_delete": "site",
    "member_role": "membership",
    "member_remove": "membership",
    "invitation_revoke": "invitation",
    "token_revoke": "token",
    "application_detail": "application",
    "application_edit": "application",
    "application_transition": "application",
    "document_upload": "application",
    "review_detail": "application",
    "review_assessment": "application",
    "review_transfer": "application",
    "review_transfer_conclude": "application",
    "document_download": "document",
    "document_delete": "document",
    "review_audit_time": "application",
    "quotation_issue": "application",
    "quotation_accept": "quotation",
    "quotation_pdf": "quotation",
    **sweep_improvement.HTML_PK_KINDS,
    **sweep_readiness.HTML_PK_KINDS,
    **sweep_audits_programme.HTML_PK_KINDS,
    **sweep_audits_conduct.HTML_PK_KINDS,
    **sweep_certification.HTML_PK_KINDS,
    **sweep_energy.HTML_PK_KINDS,
    **sweep_registry.HTML_PK_KINDS,
    **sweep_complaints.HTML_PK_KINDS,
    **sweep_impartiality.HTML_PK_KINDS,
}
# Non-integer parameters: every value the view knows, and one it doesn't.
HTML_SLUG_VALUES = {
    ("application_edit", "step"): [*STEP_KEYS, "no-such-step"],
    ("application_transition", "action"): [*TRANSITIONS, "no-such-action"],
    **sweep_improvement.HTML_SLUG_VALUES,
    **sweep_complaints.HTML_SLUG_VALUES,
    **sweep_impartiality.HTML_SLUG_VALUES,
    # The public registry: a number nobody was issued is a 404 for every method.
    ("verify_certificate", "number"): ["NO-SUCH-CERTIFICATE"],
}
# Pages without an object in the URL: what Charlie gets there.
HTML_PUBLIC = {"landing", "audit_time_estimate",      # anyone; shows nothing of clients
               "verify_lookup", "certificate_directory",   # the public registry
               "signing_key",   # the certificates' public signing key
               "health_live", "health_ready",   # load balancers' probes: ok/fail, no data
               "favicon",   # the portal's icon
               *sweep_complaints.HTML_PUBLIC}
HTML_OWN = {"dashboard", "organization_create", "tokens", "audit_list",   # Charlie's own, nothing of Alice's
            *sweep_certification.HTML_OWN, *sweep_complaints.HTML_OWN}
HTML_STAFF_ONLY = {"audit_trail", "review_queue",     # CB staff only: 404 for clients
                   "work_queue",   # the CB's work queues (portal/queues.py)
                   "my_declarations",   # a staff member's own client relationships
                   "metrics",   # the operator's: 404 while METRICS_TOKEN is unset, else a token
                   *sweep_certification.HTML_STAFF_ONLY, *sweep_registry.HTML_STAFF_ONLY,
                   *sweep_complaints.HTML_STAFF_ONLY, *sweep_impartiality.HTML_STAFF_ONLY}
HTML_INVITATION = {"invitation_accept"}               # a secret token, swept separately

# --- API operations -----------------------------------------------------------------------------
API_PARAM_KINDS = {
    "org_id": "organization",
    "organization_id": "organization",
    "site_id": "site",
    "membership_id": "membership",
    "invitation_id": "invitation",
    "app_id": "application",
    "doc_id": "document",
    "token_id": "token",
    "quotation_id": "quotation",
    **sweep_improvement.API_PARAM_KINDS,
    **sweep_readiness.API_PARAM_KINDS,
    **sweep_audits_programme.API_PARAM_KINDS,
    **sweep_audits_conduct.API_PARAM_KINDS,
    **sweep_certification.API_PARAM_KINDS,
    **sweep_energy.API_PARAM_KINDS,
    **sweep_registry.API_PARAM_KINDS,
    **sweep_complaints.API_PARAM_KINDS,
    **sweep_impartiality.API_PARAM_KINDS,
}
# URL patterns of the API that are no operation of the OpenAPI document.
API_URL_EXEMPT = {"openapi-json", "openapi-view", "api-root"}
# Operations without an id in the path, and why they are not filled with Alice's ids.
API_PUBLIC = {
    ("get", "/api/v1/catalog/standards"), ("get", "/api/v1/catalog/standards/{code}"),
    ("get", "/api/v1/catalog/sectors"), ("get", "/api/v1/catalog/countries"),
    ("post", "/api/v1/audit-time"),  # a pure computation over the body; reads no client data
    # Authenticated, but as pure: the energy analysis of the body; reads and stores nothing.
    ("post", "/api/v1/energy/analyse"),
    # The public registry: issued certificates, published by design (confidential ones
    # are verifiable by their number only, never listed).
    ("get", "/api/v1/public/certificates"), ("get", "/api/v1/public/certificates/{number}"),
    *sweep_complaints.API_PUBLIC,
}
API_OWN_LISTS = {  # Charlie's own; checked to list nothing of Alice's
    ("get", "/api/v1/me"), ("get", "/api/v1/organizations"), ("get", "/api/v1/tokens"),
    ("get", "/api/v1/applications"),
    *sweep_audits_programme.API_OWN_LISTS,
    *sweep_certification.API_OWN_LISTS,
    *sweep_complaints.API_OWN_LISTS,
}
API_OWN_CREATES = {  # create Charlie's own objects; nothing of Alice's is named
    ("post", "/api/v1/organizations"), ("post", "/api/v1/tokens"),
    *sweep_complaints.API_OWN_CREATES,
}
API_BODY_REFERENCES = {  # names Alice's object in the body: 404
    ("post", "/api/v1/applications"),
}
API_STAFF_ONLY = {("get", "/api/v1/audit-events"), *sweep_registry.API_STAFF_ONLY,
                  *sweep_certification.API_STAFF_ONLY,
                  *sweep_complaints.API_STAFF_ONLY, *sweep_impartiality.API_STAFF_ONLY,
                  # a CB staff member's own declared client relationships
                  ("get", "/api/v1/me/client-relationships"),
                  ("post", "/api/v1/me/client-relationships")}
HTTP_METHODS = ("get", "post", "put", "patch", "delete")

# Form fields a write page might want; pages ignore what they don't use.
FORM_BODY = {
    "legal_name": "Brightpath takeover", "country": "GB", "registered_address": "Leeds",
    "name": "Sweep", "address": "Leeds", "effective_personnel": "1", "shifts": "1",
    "email": "charlie@brightpath.example", "role": "owner", "standard": "ISO 9001",
    "scope_statement": "Sweep", "message": "Sweep", "response": "Sweep", "reason": "Sweep",
    "kind": "other", "description": "Sweep", "impartiality_risk": "none",
    "documents_reviewed": "on", "scope_clear": "on", "sites_personnel_plausible": "on",
    "cb_competent": "on", "version": "1",
}
# JSON values by property name, where a generic sample would not be valid.
API_SAMPLES = {
    "email": "charlie@brightpath.example", "role": "owner", "country": "GB",
    "standard": "ISO 9001", "impartiality_risk": "none",
    **sweep_audits_programme.API_SAMPLES,
    **sweep_registry.API_SAMPLES,
}


# --- Alice's world ------------------------------------------------------------------------------

@dataclass
class AliceWorld:
    ids: dict[str, list[int]]
    application: Application
    invitation_secret: str
    names: list[str] = field(default_factory=list)


@pytest.fixture(params=["draft", "under_review"])
def alice_world(request, alice, bob, nordlicht, brightpath, charlie,
                django_capture_on_commit_callbacks) -> AliceWorld:
    """Alice's organization with one of each object type; Charlie has his own."""
    application = registration_services.create_application(
        organization=nordlicht, actor=alice,
            standards=[{"standard": "ISO 50001", "effective_personnel": "24",
                           "annual_energy_consumption_tj": "310", "energy_types": 3,
                           "significant_energy_uses": 5}],
            desired_audit_from=timezone.localdate() + datetime.timedelta(days=60),
            desired_audit_to=timezone.localdate() + datetime.timedelta(days=90))
    document = registration_services.add_application_document(
        application=application, actor=alice, kind="manual",
        upload=SimpleUploadedFile("nordlicht-manual.pdf", PDF))
    rita = request.getfixturevalue("rita")
    if request.param == "under_review":
        registration_services.submit_application(application=application, actor=alice)
        registration_services.start_review(application=application, actor=rita)
    # A registered application with its audit time and a quotation (PDF rendered), so the
    # audit-time and quotation pages have something of Alice's to refuse.
    quoted = registration_services.create_application(
        organization=nordlicht, actor=alice,
            standards=[{"standard": "ISO 9001", "effective_personnel": "30"}],
            desired_audit_from=timezone.localdate() + datetime.timedelta(days=60),
            # A transfer (IAF MD 2), so the transfer-review pages and API have something
            # of Alice's to refuse.
            is_transfer=True, current_cb_name="Hanse Sweep Zertifizierung",
            current_certificate_number="HSZ-0815",
            current_certificate_expiry=timezone.localdate() + datetime.timedelta(days=400),
            current_cycle_decision_date=timezone.localdate() - datetime.timedelta(days=700),
            current_cycle_stage="surveillance1")
    registration_services.submit_application(application=quoted, actor=alice)
    registration_services.start_review(application=quoted, actor=rita)
    registration_services.record_preliminary_assessment(application=quoted, actor=rita,
                                                        documents_reviewed=True,
                                                        scope_clear=True,
                                                        sites_personnel_plausible=True,
                                                        cb_competent=True,
                                                        impartiality_risk="none")
    registration_services.register_application(application=quoted, actor=rita)
    registration_services.determine_audit_time(application=quoted, actor=rita, overrides={
        "initial_days": {"value": "6", "justification": "Nordlicht's three shifts need more."}})
    registration_services.record_transfer_review(
        application=quoted, actor=rita, certificate_valid=True,
        notes="Hanse sweep-review notes: reports of 2025 read.")
    quotation = registration_services.render_quotation_pdf_file(
        quotation=registration_services.issue_quotation(application=quoted, actor=rita))
    with django_capture_on_commit_callbacks(execute=True):
        invitation = account_services.invite_member(
            organization=nordlicht, actor=alice, email="erik@nordlicht.example", role="editor")
    secret = re.search(r"/invitations/accept/([^/\s]+)/", mail.outbox[-1].body).group(1)
    token, _ = account_services.create_access_token(actor=alice, name="Alice's CI")
    # Charlie has an application of his own, so his lists are not trivially empty.
    registration_services.create_application(
        organization=brightpath, actor=charlie,
        standards=[{"standard": "ISO 9001", "effective_personnel": "42"}])
    improvement_ids, improvement_names = sweep_improvement.build_world(
        organization=nordlicht, alice=alice, bob=bob)
    readiness_ids, readiness_names = sweep_readiness.build_world(
        organization=nordlicht, alice=alice, bob=bob)
    programme_ids, programme_names = sweep_audits_programme.build_world(
        organization=nordlicht, alice=alice, bob=bob, rita=rita)
    conduct_ids, conduct_names = sweep_audits_conduct.build_world(organization=nordlicht,
                                                                  alice=alice)
    certification_ids, certification_names = sweep_certification.build_world(
        organization=nordlicht, alice=alice, rita=rita)
    energy_ids, energy_names = sweep_energy.build_world(organization=nordlicht, alice=alice)
    registry_ids = sweep_registry.build_world(ada=request.getfixturevalue("ada"))
    complaints_ids, complaints_names = sweep_complaints.build_world(organization=nordlicht,
                                                                    alice=alice)
    impartiality_ids, impartiality_names = sweep_impartiality.build_world(
        organization=nordlicht, ada=request.getfixturevalue("ada"))
    return AliceWorld(
        ids={
            **improvement_ids,
            **readiness_ids,
            **programme_ids,
            **conduct_ids,  # after the programme's: its audit ids include theirs
            **certification_ids,
            **energy_ids,
            **registry_ids,
            **complaints_ids,
            **impartiality_ids,
            "organization": [nordlicht.pk],
            "site": list(nordlicht.sites.values_list("pk", flat=True)),
            "membership": list(nordlicht.memberships.values_list("pk", flat=True)),
            "invitation": [invitation.pk],
            "application": [application.pk, quoted.pk],
            "document": [document.pk],
            "token": [token.pk],
            "quotation": [quotation.pk],
        },
        application=application, invitation_secret=secret,
        names=["Nordlicht", "nordlicht-manual.pdf", "Oldenburg plant", "alice@nordlicht.example",
               "erik@nordlicht.example", "Alice&#x27;s CI", "Alice's CI", application.reference,
               quoted.reference, quotation.number, "three shifts", "HSZ-0815",
               "Hanse sweep-review notes", *improvement_names,
               *readiness_names, *programme_names, *conduct_names, *certification_names,
               *energy_names, *complaints_names, *impartiality_names],
    )


def alice_state(world: AliceWorld) -> dict:
    """Everything of Alice's a request could have changed."""
    application = Application.objects.get(pk=world.application.pk)
    organization = application.organization
    return {
        "application": (application.status, application.version, application.updated_at,
                        application.scope_statement, application.reviewer_id,
                        application.registration_number),
        "lines": sorted(application.standard_lines.values_list("standard__code", "complexity")),
        "application_sites": sorted(application.sites.values_list("pk", flat=True)),
        "messages": ApplicationMessage.objects.filter(application=application).count(),
        "assessment": PreliminaryAssessment.objects.filter(application=application).exists(),
        "transfer_reviews": sorted(TransferReview.objects.filter(
            application__organization=application.organization).values_list("status", "notes")),
        "applications": sorted(Application.objects.filter(organization=organization)
                               .values_list("pk", "status", "version", "updated_at")),
        "determinations": sorted(AuditTimeDetermination.objects.filter(
            application__organization=organization).values_list(
            "application_id", "initial_days", "stage1_days", "surveillance_days",
            "recertification_days", "determined_at", "determined_by")),
        "overrides": [d.overrides for d in AuditTimeDetermination.objects.filter(
            application__organization=organization).order_by("pk")],
        "quotations": sorted(Quotation.objects.filter(application__organization=organization)
                             .values_list("pk", "number", "status", "accepted_by",
                                          "accepted_at", "valid_until", "pdf")),
        "documents": sorted(ApplicationDocument.objects.filter(application=application)
                            .values_list("pk", flat=True)),
        "organization": (organization.legal_name, organization.trading_name,
                         organization.country_id, organization.updated_at,
                         sorted(organization.sectors.values_list("code", flat=True))),
        "sites": sorted(Site.objects.filter(organization=organization).values_list(
            "pk", "name", "effective_personnel", "shifts", "is_central_function")),
        "memberships": sorted(Membership.objects.filter(organization=organization)
                              .values_list("pk", "user_id", "role")),
        "invitations": sorted(Invitation.objects.filter(organization=organization)
                              .values_list("pk", "status")),
        "tokens": sorted(PersonalAccessToken.objects.filter(user__email="alice@nordlicht.example")
                         .values_list("pk", "revoked_at")),
        "audit_events": AuditEvent.objects.count(),
        "improvement": sweep_improvement.state(organization),
        "readiness": sweep_readiness.state(organization),
        "audit_programme": sweep_audits_programme.state(organization),
        "audit_conduct": sweep_audits_conduct.state(organization),
        "certification": sweep_certification.state(organization),
        "energy": sweep_energy.state(organization),
        "registry": sweep_registry.state(),
        "complaints": sweep_complaints.state(organization),
        "impartiality": sweep_impartiality.state(),
    }


# --- walking the resolver and the OpenAPI document ----------------------------------------------

ROUTE_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def url_patterns():
    """``(route, name)`` of every URL pattern, includes flattened, skipped prefixes left out."""
    def walk(resolver, prefix):
        for entry in resolver.url_patterns:
            route = prefix + str(entry.pattern)
            if route.startswith(SKIPPED_PREFIXES):
                continue
            if isinstance(entry, URLResolver):
                yield from walk(entry, route)
            else:
                yield route, entry.name
    return list(walk(get_resolver(), ""))


def api_operations():
    """``(method, path, operation)`` of every operation in the OpenAPI document."""
    schema = api.get_openapi_schema()
    return [(method, path, operation)
            for path, methods in schema["paths"].items()
            for method, operation in methods.items() if method in HTTP_METHODS]


def fill(route: str, values: dict[str, object]) -> str:
    return "/" + ROUTE_PARAM.sub(lambda m: str(values[m.group("name")]), route)


def resolve_schema(schema: dict, components: dict) -> dict:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    if "anyOf" in schema:
        options = [o for o in schema["anyOf"] if o.get("type") != "null"]
        return resolve_schema(options[0], components)
    return schema


def sample(name: str, schema: dict, components: dict, world: AliceWorld):
    """A valid value for a schema property; ids are Alice's."""
    schema = resolve_schema(schema, components)
    kind = schema.get("type")
    if name in API_PARAM_KINDS and kind == "integer":
        return world.ids[API_PARAM_KINDS[name]][0]
    if name in API_SAMPLES:
        return API_SAMPLES[name]
    if kind == "object":
        return {key: sample(key, value, components, world)
                for key, value in schema.get("properties", {}).items()
                if key in schema.get("required", [])}
    if kind == "array":
        return []
    if kind == "integer" or kind == "number":
        return 1
    if kind == "boolean":
        return False
    if schema.get("format") == "date":
        return (timezone.localdate() + datetime.timedelta(days=30)).isoformat()
    return "sweep"


def api_request(client: Client, method: str, url: str, operation: dict, world: AliceWorld):
    """Send ``operation`` with a minimal valid body (multipart for uploads)."""
    body = operation.get("requestBody")
    if body is None:
        return getattr(client, method)(url)
    components = api.get_openapi_schema()["components"]["schemas"]
    if "multipart/form-data" in body["content"]:
        schema = body["content"]["multipart/form-data"]["schema"]
        data = {}
        for key, prop in schema["properties"].items():
            if prop.get("format") == "binary":
                data[key] = SimpleUploadedFile("sweep.pdf", PDF, content_type="application/pdf")
            elif key in schema.get("required", []):
                data[key] = sample(key, prop, components, world)
        return getattr(client, method)(url, data)
    data = sample("body", body["content"]["application/json"]["schema"], components, world)
    return getattr(client, method)(url, data, content_type="application/json")


def describe(response) -> str:
    content = getattr(response, "content", b"<streamed>")
    return f"{response.status_code} {content[:200]!r}"


# --- the sweep ----------------------------------------------------------------------------------

def test_charlie_gets_404_on_every_page_of_alices(charlie, alice_world, api_client):
    client = api_client(charlie)
    before = alice_state(alice_world)
    problems, unmapped, exercised = [], [], set()

    for route, name in url_patterns():
        if route.startswith("api/"):
            continue  # swept operation by operation below
        params = {m.group("name"): m.group("converter") or "str"
                  for m in ROUTE_PARAM.finditer(route)}
        if not params:
            if name not in HTML_PUBLIC | HTML_OWN | HTML_STAFF_ONLY:
                unmapped.append(f"page {name!r} ({route}) has no sweep rule")
                continue
            response = client.get("/" + route)
            expected = 404 if name in HTML_STAFF_ONLY else 200
            if response.status_code != expected:
                problems.append(f"GET /{route}: {describe(response)}, expected {expected}")
            elif expected == 200:
                leaked = [n for n in alice_world.names if n in response.content.decode()]
                if leaked:
                    problems.append(f"GET /{route} shows Alice's {leaked}")
            exercised.add(name)
            continue
        if name in HTML_INVITATION:
            exercised.add(name)  # test_an_invitation_link_reveals_nothing_to_charlie
            continue
        choices = {}
        for param, converter in params.items():
            if converter == "int" and name in HTML_PK_KINDS:
                choices[param] = alice_world.ids[HTML_PK_KINDS[name]]
            elif (name, param) in HTML_SLUG_VALUES:
                choices[param] = HTML_SLUG_VALUES[(name, param)]
            else:
                unmapped.append(f"page {name!r} ({route}): no values for <{converter}:{param}>")
        if len(choices) != len(params):
            continue
        for combination in itertools.product(*choices.values()):
            values = dict(zip(choices, combination, strict=True))
            url = fill(route, values)
            get = client.get(url)
            if get.status_code == 405:
                # A POST-only page refuses GET whatever the id: no object revealed.
                missing = client.get(fill(route, {**values, **{
                    p: MISSING_ID for p, c in params.items() if c == "int"}}))
                if missing.status_code != 405:
                    problems.append(f"GET {url}: 405, but {missing.status_code} for a missing id")
            elif get.status_code != 404:
                problems.append(f"GET {url}: {describe(get)}")
            post = client.post(url, {**FORM_BODY, "file": SimpleUploadedFile("s.pdf", PDF)})
            if post.status_code != 404:
                problems.append(f"POST {url}: {describe(post)}")
        exercised.add(name)

    assert not unmapped, "\n".join(unmapped)
    assert not problems, "\n".join(problems)
    html_names = {name for route, name in url_patterns() if not route.startswith("api/")}
    assert exercised == html_names
    assert exercised >= set(HTML_PK_KINDS) | HTML_OWN | HTML_STAFF_ONLY | HTML_PUBLIC
    assert alice_state(alice_world) == before


@pytest.mark.parametrize("auth", ["session", "token"])
def test_charlie_gets_404_from_every_api_operation_on_alices_objects(charlie, alice_world,
                                                                    api_client, auth):
    if auth == "session":
        client = api_client(charlie)
    else:
        _, secret = account_services.create_access_token(actor=charlie, name="Charlie's script")
        client = Client(headers={"Authorization": f"Bearer {secret}"})
    before = alice_state(alice_world)
    problems, unmapped, exercised = [], [], set()

    for method, path, operation in api_operations():
        key = (method, path)
        path_params = [p for p in operation.get("parameters", []) if p["in"] == "path"]
        if key in API_PUBLIC | API_OWN_CREATES:
            exercised.add(key)
            continue
        if key in API_OWN_LISTS:
            response = client.get(path)
            leaked = [n for n in alice_world.names if n in response.content.decode()]
            if response.status_code != 200 or leaked:
                problems.append(f"GET {path}: {describe(response)}; Alice's {leaked}")
            exercised.add(key)
            continue
        if key in API_STAFF_ONLY or key in API_BODY_REFERENCES:
            response = api_request(client, method, path, operation, alice_world)
            if response.status_code != 404 or response.json() != NOT_FOUND:
                problems.append(f"{method.upper()} {path}: {describe(response)}")
            exercised.add(key)
            continue
        if not path_params:
            unmapped.append(f"{method.upper()} {path} has no sweep rule")
            continue
        choices = {}
        for param in path_params:
            if param["schema"].get("type") == "integer" and param["name"] in API_PARAM_KINDS:
                choices[param["name"]] = alice_world.ids[API_PARAM_KINDS[param["name"]]]
            else:
                unmapped.append(f"{method.upper()} {path}: no values for {{{param['name']}}}")
        if len(choices) != len(path_params):
            continue
        for combination in itertools.product(*choices.values()):
            url = path.format(**dict(zip(choices, combination, strict=True)))
            response = api_request(client, method, url, operation, alice_world)
            if response.status_code != 404 or response.json() != NOT_FOUND:
                problems.append(f"{method.upper()} {url}: {describe(response)}")
        exercised.add(key)

    assert not unmapped, "\n".join(unmapped)
    assert not problems, "\n".join(problems)
    assert exercised == {(method, path) for method, path, _ in api_operations()}
    assert alice_state(alice_world) == before


def test_every_api_url_pattern_is_an_operation_of_the_openapi_document(db):
    """An API route left out of the schema would escape the operation sweep."""
    documented = {path for _, path, _ in api_operations()}
    strays = []
    for route, name in url_patterns():
        if not route.startswith("api/") or name in API_URL_EXEMPT:
            continue
        path = "/" + ROUTE_PARAM.sub(lambda m: "{" + m.group("name") + "}", route)
        if path not in documented:
            strays.append(f"{route} ({name})")
    assert strays == []
    all_routes = {name for route, name in url_patterns() if route.startswith("api/")}
    assert all_routes >= API_URL_EXEMPT


def test_the_exempt_lists_name_only_existing_operations(db):
    operations = {(method, path) for method, path, _ in api_operations()}
    exempt = API_PUBLIC | API_OWN_LISTS | API_OWN_CREATES | API_BODY_REFERENCES | API_STAFF_ONLY

    assert exempt <= operations
    assert all("{" not in path for method, path in exempt - API_PUBLIC)
    pages = {name for route, name in url_patterns()}
    assert set(HTML_PK_KINDS) | HTML_PUBLIC | HTML_OWN | HTML_STAFF_ONLY | HTML_INVITATION <= pages


# --- lists, invitations, reviewers --------------------------------------------------------------

def test_charlies_lists_show_nothing_of_alices(charlie, brightpath, alice_world, api_client):
    client = api_client(charlie)

    organizations = client.get("/api/v1/organizations").json()
    applications = client.get("/api/v1/applications").json()
    nordlicht_id = alice_world.ids["organization"][0]
    filtered = client.get(f"/api/v1/applications?organization_id={nordlicht_id}")
    tokens = client.get("/api/v1/tokens").json()
    dashboard = client.get("/dashboard/")

    assert [o["id"] for o in organizations] == [brightpath.pk]
    assert [a["organization_id"] for a in applications] == [brightpath.pk]
    assert filtered.json() == []
    assert tokens == []
    assert dashboard.status_code == 200
    page = dashboard.content.decode()
    assert "Brightpath" in page
    assert "Nordlicht" not in page and alice_world.application.reference not in page


def test_charlie_cannot_attach_alices_sites_to_his_application(charlie, brightpath, alice_world,
                                                              api_client):
    client = api_client(charlie)
    own = Application.objects.get(organization=brightpath)
    before = (own.version, sorted(own.sites.values_list("pk", flat=True)))

    response = client.patch(f"/api/v1/applications/{own.pk}",
                            {"site_ids": alice_world.ids["site"]},
                            content_type="application/json")

    assert response.status_code == 422
    assert "site_ids" in response.json()["error"]["fields"]
    own.refresh_from_db()
    assert (own.version, sorted(own.sites.values_list("pk", flat=True))) == before


def test_an_invitation_link_reveals_nothing_to_charlie(charlie, alice_world, api_client):
    client = api_client(charlie)
    before = alice_state(alice_world)
    memberships = list(Membership.objects.filter(user=charlie).values_list("organization_id"))

    for token in ("no-such-invitation", "x" * 43, alice_world.invitation_secret[:-1]):
        page = client.get(f"/invitations/accept/{token}/")
        assert page.status_code == 200
        assert "Invitation not valid" in page.content.decode()
        assert not any(n in page.content.decode() for n in alice_world.names)
        accepted = client.post(f"/invitations/accept/{token}/")
        assert accepted.status_code == 200
        assert "Nordlicht" not in accepted.content.decode()

    # The real link was sent to Erik: Charlie holding it still can't join.
    refused = client.post(f"/invitations/accept/{alice_world.invitation_secret}/")
    assert refused.status_code == 200
    assert "erik@nordlicht.example; log in with that address" in refused.content.decode()

    assert list(Membership.objects.filter(user=charlie).values_list("organization_id")) == \
        memberships
    assert alice_state(alice_world) == before


def test_a_reviewer_sees_alices_application_only_once_submitted(alice, rita, draft, api_client):
    document = registration_services.add_application_document(
        application=draft, actor=alice, kind="manual", upload=SimpleUploadedFile("m.pdf", PDF))
    client = api_client(rita)

    for url in (f"/api/v1/applications/{draft.pk}", f"/api/v1/applications/{draft.pk}/timeline",
                f"/api/v1/applications/{draft.pk}/documents",
                f"/api/v1/documents/{document.pk}/download"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.json() == NOT_FOUND
    for url in (f"/applications/{draft.pk}/", f"/review/{draft.pk}/",
                f"/documents/{document.pk}/download/"):
        assert client.get(url).status_code == 404, url
    assert draft.pk not in [a["id"] for a in client.get("/api/v1/applications").json()]
    assert client.post(f"/api/v1/applications/{draft.pk}/start-review").status_code == 404
    draft.refresh_from_db()
    assert draft.status == "draft"

    registration_services.submit_application(application=draft, actor=alice)

    detail = client.get(f"/api/v1/applications/{draft.pk}")
    assert detail.status_code == 200
    assert detail.json()["status"] == "submitted"
    assert set(detail.json()["allowed_actions"]) == {"start_review"}
    assert draft.pk in [a["id"] for a in client.get("/api/v1/applications").json()]
    assert client.get(f"/review/{draft.pk}/").status_code == 200
    assert client.get(f"/api/v1/documents/{document.pk}/download").status_code == 200
