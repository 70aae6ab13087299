"""Audit time and quotations through /api/v1/: the reviewer determines and quotes, the
client's owner accepts and downloads the PDF; refusals in the one error shape."""

import datetime
import functools

import pytest
from django.utils import timezone
from factories import apply_for
from helpers.api import assert_error as assert_error_shape

from isocert.core.models import AuditEvent
from isocert.registration.models import AuditTimeDetermination, Quotation

QUALITY = [{"standard": "ISO 9001", "effective_personnel": "30"}]
WHY = "Three shifts and a die-casting line need a longer stage 2 on site."
# Here an error names exactly the given fields, no others.
assert_error = functools.partial(assert_error_shape, exact_fields=True)
NOT_FOUND = {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}


def put_json(client, url, data):
    return client.put(url, data, content_type="application/json")


def post_json(client, url, data=None):
    return client.post(url, data if data is not None else {}, content_type="application/json")


@pytest.fixture
def quality(nordlicht, alice, rita):
    """Nordlicht's registered ISO 9001 application (30 persons: 4 initial days)."""
    return apply_for(nordlicht, alice, rita, QUALITY, register=True)


@pytest.fixture
def determined(quality, rita, api_client):
    response = put_json(api_client(rita), f"/api/v1/applications/{quality.pk}/audit-time",
                        {"overrides": {"initial_days": {"value": 6, "justification": WHY}}})
    assert response.status_code == 200, response.content
    return quality


@pytest.fixture
def quotation_id(determined, rita, api_client):
    response = post_json(api_client(rita), f"/api/v1/applications/{determined.pk}/quotations")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def state(application) -> tuple:
    """What a refused request must leave as it was."""
    determination = (AuditTimeDetermination.objects.filter(application=application)
                     .values("overrides", "initial_days", "stage1_days", "determined_at").first())
    return (determination,
            list(Quotation.objects.filter(application=application).order_by("pk")
                 .values_list("pk", "status", "accepted_at")),
            AuditEvent.objects.count())


# --- audit time -----------------------------------------------------------------------------------

def test_the_reviewer_determines_the_audit_time(quality, rita, alice, bob, api_client):
    url = f"/api/v1/applications/{quality.pk}/audit-time"
    assert_error(api_client(alice).get(url), 404, "not_found")  # not determined yet

    response = put_json(api_client(rita), url, {
        "adjustments": [{"reason": "Several languages on site", "percent": 10}],
        "sampling_allowed": True,
        "overrides": {"initial_days": {"value": "6", "justification": WHY},
                      "surveillance_days": {"value": 2.5,
                                            "justification": "Both sites every year."}}})

    assert response.status_code == 200, response.content
    body = response.json()
    assert {key: body[key] for key in (
        "initial_days", "stage1_days", "stage2_days", "surveillance_days",
        "recertification_days", "min_onsite_days")} == {
        "initial_days": "6.0", "stage1_days": "2.0", "stage2_days": "4.0",
        "surveillance_days": "2.5", "recertification_days": "4.0", "min_onsite_days": "5.0"}
    assert body["overrides"] == {
        "initial_days": {"value": 6.0, "justification": WHY},
        "surveillance_days": {"value": 2.5, "justification": "Both sites every year."}}
    assert body["inputs"] == {
        "standards": [{"code": "ISO 9001", "effective_personnel": "30.00"}],
        "adjustments": [{"reason": "Several languages on site", "percent": "10"}],
        "sites": {"count": 1, "sampling_allowed": True}}
    # 4 table days + 10 % = 4.4 -> 4.5 computed; the reviewer's 6 apply.
    assert body["computed"]["initial_days"] == 4.5
    assert body["computed"]["net_adjustment_percent"] == 10.0
    assert body["computed"]["explanation"]

    for reader in (alice, bob, rita):
        assert api_client(reader).get(url).json() == body
    assert AuditEvent.objects.order_by("seq").last().action == "registration.audit_time.determined"


def test_a_client_cannot_determine_the_audit_time(quality, alice, bob, api_client):
    before = state(quality)

    for user in (alice, bob):
        assert_error(put_json(api_client(user), f"/api/v1/applications/{quality.pk}/audit-time",
                              {}), 403, "forbidden")

    assert state(quality) == before


def test_audit_time_is_not_determined_before_the_review(submitted, draft, rita, api_client):
    client = api_client(rita)
    before = state(submitted)

    response = put_json(client, f"/api/v1/applications/{submitted.pk}/audit-time", {})

    assert_error(response, 409, "conflict")
    assert state(submitted) == before


def test_a_draft_is_invisible_to_the_reviewer(draft, rita, api_client):
    response = put_json(api_client(rita), f"/api/v1/applications/{draft.pk}/audit-time", {})

    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert not AuditTimeDetermination.objects.filter(application=draft).exists()


@pytest.mark.parametrize(("overrides", "field"), [
    ({"initial_days": {"value": 6, "justification": "Too short"}},
     "overrides.initial_days.justification"),
    ({"initial_days": {"value": 6, "justification": "          "}},
     "overrides.initial_days.justification"),
    ({"initial_days": {"value": 6}}, "overrides.initial_days.justification"),
    ({"initial_days": {"justification": WHY}}, "overrides.initial_days.value"),
    ({"initial_days": {"value": 4.3, "justification": WHY}}, "overrides.initial_days.value"),
    ({"initial_days": {"value": 0, "justification": WHY}}, "overrides.initial_days.value"),
    ({"stage1_days": {"value": -1, "justification": WHY}}, "overrides.stage1_days.value"),
    ({"initial_days": {"value": "lots", "justification": WHY}}, "overrides.initial_days.value"),
    ({"stage2_days": {"value": 3, "justification": WHY}}, "overrides.stage2_days"),
    ({"stage1_days": {"value": 4, "justification": WHY}}, "overrides.stage1_days.value"),
])
def test_refused_overrides_name_the_field(determined, rita, api_client, overrides, field):
    before = state(determined)

    response = put_json(api_client(rita), f"/api/v1/applications/{determined.pk}/audit-time",
                        {"overrides": overrides})

    assert_error(response, 422, "invalid", field)
    assert state(determined) == before


# --- quotations -----------------------------------------------------------------------------------

def test_the_reviewer_issues_a_quotation(determined, rita, alice, api_client):
    response = post_json(api_client(rita), f"/api/v1/applications/{determined.pk}/quotations")

    assert response.status_code == 201, response.content
    body = response.json()
    year = timezone.localdate().year
    assert body["number"] == f"QUO-{year}-000001"
    assert (body["application_id"], body["status"], body["expired"], body["pdf_ready"]) == (
        determined.pk, "sent", False, False)
    assert body["currency"] == "EUR"
    assert body["lines"] == [
        {"label": "Stage 1 audit", "days": "2.0", "amount": "2500.00"},
        {"label": "Stage 2 audit", "days": "4.0", "amount": "5000.00"},
        {"label": "Surveillance audit 1 (year 2)", "days": "2.0", "amount": "2500.00"},
        {"label": "Surveillance audit 2 (year 3)", "days": "2.0", "amount": "2500.00"},
    ]
    assert [body[k] for k in ("day_rate", "vat_percent", "net_amount", "vat_amount",
                              "total_amount")] == ["1250.00", "19.00", "12500.00", "2375.00",
                                                   "14875.00"]
    assert body["valid_until"] == (timezone.localdate() + datetime.timedelta(days=90)).isoformat()
    assert body["accepted_at"] is None
    assert body["audit_time"]["overrides"] == {"initial_days": {"value": 6.0,
                                                                "justification": WHY}}

    client = api_client(alice)
    assert client.get(f"/api/v1/quotations/{body['id']}").json() == body
    assert client.get(f"/api/v1/applications/{determined.pk}/quotations").json() == [body]


def test_a_new_quotation_supersedes_the_sent_one(quotation_id, determined, rita, api_client):
    client = api_client(rita)

    second = post_json(client, f"/api/v1/applications/{determined.pk}/quotations").json()

    listed = client.get(f"/api/v1/applications/{determined.pk}/quotations").json()
    assert [(q["id"], q["status"]) for q in listed] == [(second["id"], "sent"),
                                                        (quotation_id, "superseded")]
    assert second["number"].endswith("-000002")


def test_issuing_is_refused_to_clients_and_without_a_determination(quality, alice, rita,
                                                                   api_client):
    url = f"/api/v1/applications/{quality.pk}/quotations"
    before = state(quality)

    assert_error(post_json(api_client(alice), url), 403, "forbidden")
    assert_error(post_json(api_client(rita), url), 409, "conflict")

    assert state(quality) == before
    assert api_client(alice).get(url).json() == []


def test_issuing_needs_a_registered_application(nordlicht, alice, rita, api_client):
    application = apply_for(nordlicht, alice, rita, QUALITY, register=False)
    client = api_client(rita)
    assert put_json(client, f"/api/v1/applications/{application.pk}/audit-time",
                    {}).status_code == 200
    before = state(application)

    response = post_json(client, f"/api/v1/applications/{application.pk}/quotations")

    error = assert_error(response, 409, "conflict")
    assert error["message"] == "A quotation is issued once the application is registered."
    assert state(application) == before


def test_the_owner_accepts_and_then_nothing_changes_any_more(quotation_id, determined, alice,
                                                              rita, api_client):
    client = api_client(alice)

    response = post_json(client, f"/api/v1/quotations/{quotation_id}/accept")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "accepted"
    accepted_at = datetime.datetime.fromisoformat(body["accepted_at"])
    assert abs(timezone.now() - accepted_at) < datetime.timedelta(minutes=1)
    assert AuditEvent.objects.order_by("seq").last().action == "registration.quotation.accepted"
    before = state(determined)

    assert_error(post_json(client, f"/api/v1/quotations/{quotation_id}/accept"), 409, "conflict")
    reviewer = api_client(rita)
    assert_error(put_json(reviewer, f"/api/v1/applications/{determined.pk}/audit-time", {}),
                 409, "conflict")
    assert_error(post_json(reviewer, f"/api/v1/applications/{determined.pk}/quotations"),
                 409, "conflict")
    assert state(determined) == before


@pytest.mark.parametrize("who", ["bob", "rita"])
def test_only_an_owner_accepts(quotation_id, determined, who, request, api_client):
    client = api_client(request.getfixturevalue(who))
    before = state(determined)

    error = assert_error(post_json(client, f"/api/v1/quotations/{quotation_id}/accept"),
                         403, "forbidden")

    assert error["message"] == "Only an owner of the organization can accept a quotation."
    assert state(determined) == before


def test_charlie_gets_404_for_alices_quotation(quotation_id, determined, charlie, api_client):
    client = api_client(charlie)
    before = state(determined)

    for response in (client.get(f"/api/v1/quotations/{quotation_id}"),
                     post_json(client, f"/api/v1/quotations/{quotation_id}/accept"),
                     client.get(f"/api/v1/quotations/{quotation_id}/pdf"),
                     client.get(f"/api/v1/applications/{determined.pk}/quotations"),
                     client.get(f"/api/v1/applications/{determined.pk}/audit-time")):
        assert response.status_code == 404
        assert response.json() == NOT_FOUND
    assert state(determined) == before


def test_an_expired_or_superseded_quotation_cannot_be_accepted(quotation_id, determined, alice,
                                                                rita, api_client):
    Quotation.objects.filter(pk=quotation_id).update(
        valid_until=timezone.localdate() - datetime.timedelta(days=1))
    client = api_client(alice)
    assert client.get(f"/api/v1/quotations/{quotation_id}").json()["expired"] is True
    before = state(determined)

    error = assert_error(post_json(client, f"/api/v1/quotations/{quotation_id}/accept"),
                         409, "conflict")
    assert "expired" in error["message"]
    assert state(determined) == before

    post_json(api_client(rita), f"/api/v1/applications/{determined.pk}/quotations")
    before = state(determined)
    error = assert_error(post_json(client, f"/api/v1/quotations/{quotation_id}/accept"),
                         409, "conflict")
    assert "superseded" in error["message"]
    assert state(determined) == before


def test_a_missing_quotation_is_404(alice, api_client, db):
    for response in (api_client(alice).get("/api/v1/quotations/987654321"),
                     post_json(api_client(alice), "/api/v1/quotations/987654321/accept")):
        assert response.status_code == 404
        assert response.json() == NOT_FOUND


# --- the PDF --------------------------------------------------------------------------------------

def test_the_pdf_is_404_until_rendered_then_an_attachment(determined, rita, alice, api_client,
                                                          django_capture_on_commit_callbacks):
    reviewer, owner = api_client(rita), api_client(alice)
    unrendered = post_json(reviewer, f"/api/v1/applications/{determined.pk}/quotations").json()

    waiting = owner.get(f"/api/v1/quotations/{unrendered['id']}/pdf")
    assert waiting.status_code == 404
    assert waiting.json() == NOT_FOUND

    with django_capture_on_commit_callbacks(execute=True):
        issued = post_json(reviewer, f"/api/v1/applications/{determined.pk}/quotations").json()
    assert owner.get(f"/api/v1/quotations/{issued['id']}").json()["pdf_ready"] is True

    response = owner.get(f"/api/v1/quotations/{issued['id']}/pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{issued["number"]}.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")


# --- preview and price edit (issue #19) ---------------------------------------------------------

def test_the_preview_prices_what_issuing_sends_and_saves_nothing(determined, rita, api_client):
    client = api_client(rita)
    before = state(determined)
    price = {"day_rate": "1000", "adjustment": "-400", "adjustment_reason": "Framework deal"}

    preview = post_json(client, f"/api/v1/applications/{determined.pk}/quotations/preview", price)

    assert preview.status_code == 200, preview.content
    body = preview.json()
    # 2 + 4 + 2 x 2 days at 1000.00 = 10000.00, less 400.00, 19 % VAT.
    assert (body["day_rate"], body["net_amount"], body["total_amount"]) == (
        "1000.00", "9600.00", "11424.00")
    assert body["lines"][-1] == {"label": "Adjustment: Framework deal", "days": "",
                                 "amount": "-400.00"}
    assert state(determined) == before

    issued = post_json(client, f"/api/v1/applications/{determined.pk}/quotations", price)
    assert issued.status_code == 201
    assert {k: issued.json()[k] for k in ("day_rate", "lines", "net_amount", "total_amount")} == {
        k: body[k] for k in ("day_rate", "lines", "net_amount", "total_amount")}
    event = AuditEvent.objects.get(action="registration.quotation.issued")
    assert event.payload["day_rate"] == "1000.00" and event.payload["adjustment"] == "-400.00"
    assert event.payload["day_rate_is_default"] is False


@pytest.mark.parametrize("price, field", [
    ({"day_rate": "0"}, "day_rate"),
    ({"day_rate": "-5"}, "day_rate"),
    ({"adjustment": "-100"}, "adjustment_reason"),
    ({"adjustment": "-99999", "adjustment_reason": "Too generous"}, "adjustment"),
])
def test_a_bad_price_is_refused_and_nothing_is_sent(determined, rita, api_client, price, field):
    client = api_client(rita)
    before = state(determined)

    for url in (f"/api/v1/applications/{determined.pk}/quotations/preview",
                f"/api/v1/applications/{determined.pk}/quotations"):
        assert_error(post_json(client, url, price), 422, "invalid", field)

    assert state(determined) == before


def test_the_client_cannot_preview(determined, alice, api_client):
    response = post_json(api_client(alice),
                         f"/api/v1/applications/{determined.pk}/quotations/preview", {})

    assert response.status_code in (403, 404)
