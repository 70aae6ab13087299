"""Fuzzing the API against its own OpenAPI document (schemathesis).

Every documented operation gets generated requests, valid ones and invalid ones, once with
Alice's personal access token and once anonymously, through the WSGI callable the server
serves (``isocert.wsgi.application``). Each answer must not be a 5xx, must have a status
the document lists for the operation and a body that matches the documented schema.

Path ids are drawn from the objects Alice can reach (her organization, its sites, an
application, a gap assessment, an action …) about half of the time, so operations are
exercised past their 404. Deterministic: hypothesis is derandomized, no example database,
no shrinking; the examples per operation are few (``FUZZ_EXAMPLES``) so the whole test stays
well under two minutes on SQLite. On PostgreSQL it is skipped to keep CI time; the
PostgreSQL-only bad inputs (NUL bytes) have their own tests.
"""

import contextlib
import datetime

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections, connection
from factories import make_user
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from readiness_helpers import gap_action, management_review, row
from registry_helpers import clear_public_state, make_certificate
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.core.failures import FailureGroup

from isocert.wsgi import application

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="The API fuzz test runs on SQLite only, to keep CI time (the PostgreSQL-only "
           "bad inputs have their own tests).")

FUZZ_EXAMPLES = 5
BASE_URL = "http://localhost"


load_all_checks()
CHECKS_RUN = [CHECKS.get_one(name) for name in (
    "not_a_server_error", "status_code_conformance", "content_type_conformance",
    "response_schema_conformance")]


@contextlib.contextmanager
def keeping_the_test_transaction():
    """Like Django's test client: the WSGI handler must not close the connection that holds
    the test's transaction at the end of each request."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_settings(settings):
    # The public rate limit would answer most of the fuzzed public requests 429.
    settings.PUBLIC_API_RATE = "100000/min"
    clear_public_state()
    yield settings
    clear_public_state()


@pytest.fixture
def reachable(alice, nordlicht, registered, fuzz_settings):
    """Alice's objects, by the path parameter that names them, and her token."""
    from isocert.accounts.models import Membership, Site
    from isocert.accounts.services import create_access_token
    from isocert.catalog.models import Standard
    from isocert.improvement.models import InternalAudit
    from isocert.readiness.services import start_gap_assessment

    standard = Standard.objects.get(code="ISO 50001")
    assessment = start_gap_assessment(organization=nordlicht, standard=standard, actor=alice)
    item = row(assessment, "4.1")
    action = gap_action(item)
    internal_audit = InternalAudit.objects.create(
        organization=nordlicht, standard=standard, title="Internal audit 2025",
        start_date=datetime.date(2025, 3, 1), end_date=datetime.date(2025, 3, 3))
    review = management_review(nordlicht, standard)
    certificate = make_certificate("Nordlicht Aluminium GmbH")
    # Revoking or re-roling is fuzzed on these, not on Alice's own token and membership.
    spare_token, _ = create_access_token(actor=alice, name="spare", expires_in_days=30)
    make_user("erik@nordlicht.example", "Erik Viewer")
    _, secret = create_access_token(actor=alice, name="fuzz", expires_in_days=30)
    ids = {
        "org_id": nordlicht.pk,
        "site_id": Site.objects.filter(organization=nordlicht).first().pk,
        "membership_id": Membership.objects.get(organization=nordlicht,
                                                user__email__startswith="bob").pk,
        "token_id": spare_token.pk,
        "app_id": registered.pk,
        "gap_assessment_id": assessment.pk,
        "gap_item_id": item.pk,
        "action_id": action.pk,
        "internal_audit_id": internal_audit.pk,
        "management_review_id": review.pk,
        "number": certificate.number,
        "code": "ISO 50001",
    }
    return ids, secret


def _operations(document, only: str = ""):
    schema = schemathesis.openapi.from_dict(document)
    for result in schema.get_all_operations():
        operation = result.ok()
        if not only or operation.label == only:
            yield operation


def _fuzz(operation, ids, headers, failures: dict, examples: int) -> None:
    """Fuzz one operation; each distinct failure is recorded once, with a curl command."""
    strategies = [operation.as_strategy(generation_mode=GenerationMode.POSITIVE)]
    if operation.path_parameters or operation.query or operation.body:
        strategies.append(operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))

    @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=st.one_of(strategies), real_ids=st.booleans())
    def run(case, real_ids):
        if real_ids:
            for name in list(case.path_parameters or {}):
                if name in ids:
                    case.path_parameters[name] = ids[name]
        with keeping_the_test_transaction():
            response = case.call(base_url=BASE_URL, app=application, headers=headers)
        try:
            case.validate_response(response, checks=CHECKS_RUN, headers=headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                key = (operation.label, failure.title, response.status_code)
                failures.setdefault(key, f"{operation.label}: {failure.title} "
                                         f"({response.status_code}): {failure.message[:400]}\n"
                                         f"    {case.as_curl_command(headers=headers)}")

    run()


@pytest.mark.parametrize("who", ["alice", "anonymous"])
def test_fuzzed_requests_get_documented_answers_and_never_a_server_error(who, reachable, client):
    ids, secret = reachable
    document = client.get("/api/v1/openapi.json").json()
    headers = {"Authorization": f"Bearer {secret}"} if who == "alice" else {}
    failures = {}

    for operation in _operations(document):
        # Anonymous, an operation that needs a log-in answers 401 before it reads anything.
        public = not operation.definition.raw.get("security")
        examples = FUZZ_EXAMPLES if who == "alice" or public else 2
        _fuzz(operation, ids, headers, failures, examples)

    assert not failures, "\n\n".join(failures.values())


@pytest.mark.parametrize(("label", "target", "replacement", "status"), [
    # A handler that fails: a 500.
    ("GET /api/v1/organizations", "isocert.accounts.selectors.organizations_for_user",
     lambda **kwargs: 1 / 0, 500),
    # A body that is not what the document says (serialized by hand, not by ninja).
    ("GET /api/v1/public/certificates/{number}",
     "isocert.registry.verification.public_certificate_dict",
     lambda certificate: {"name": "Nordlicht", "country": "DE"}, 200),
], ids=["server_error", "undocumented_body"])
def test_the_fuzzer_reports_a_server_error_and_an_undocumented_body(
        label, target, replacement, status, reachable, client, monkeypatch):
    ids, secret = reachable
    document = client.get("/api/v1/openapi.json").json()
    monkeypatch.setattr(target, replacement)
    failures = {}

    for operation in _operations(document, only=label):
        _fuzz(operation, ids, {"Authorization": f"Bearer {secret}"}, failures, FUZZ_EXAMPLES)

    assert {(operation, answered) for operation, _, answered in failures} == {(label, status)}
