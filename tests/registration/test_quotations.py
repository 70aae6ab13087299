"""Quotations: priced from the determined audit time, accepted online as the contract.

issue_quotation (reviewers, registered applications, a complete determination),
accept_quotation (an owner of the organization, a current and unexpired quotation),
the e-mails, the PDF with the audit-time justification, the journey.
"""

import datetime
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.http import Http404
from django.utils import timezone
from factories import apply_for, client_for
from helpers.dates import shown
from helpers.pdf import pdf_text as pdf_bytes_text

from isocert.core.errors import Conflict, NotPermitted
from isocert.core.files import open_stored
from isocert.core.models import AuditEvent
from isocert.portal.journey import current_step, journeys_for_organization
from isocert.registration import selectors
from isocert.registration.models import AuditTimeDetermination, Quotation
from isocert.registration.services import (
    accept_quotation,
    determine_audit_time,
    issue_quotation,
    render_quotation_pdf_file,
)

WHY_INITIAL = "Three shifts and a die-casting line need a longer stage 2 on site."
WHY_SURVEILLANCE = "Both sites are visited at every surveillance audit."
NUMBER = re.compile(r"^QUO-\d{4}-\d{6}$")


@pytest.fixture
def quality(nordlicht, alice, rita):
    """Nordlicht's registered ISO 9001 application, 30 persons: 4 computed initial days."""
    return apply_for(nordlicht, alice, rita,
                     [{"standard": "ISO 9001", "effective_personnel": "30"}], register=True)


@pytest.fixture
def determined(quality, rita):
    """Initial 6 days set by hand (stage 1 2, stage 2 4), surveillance 2.5 set by hand."""
    determine_audit_time(application=quality, actor=rita, overrides={
        "initial_days": {"value": "6", "justification": WHY_INITIAL},
        "surveillance_days": {"value": "2.5", "justification": WHY_SURVEILLANCE}})
    return quality


@pytest.fixture
def quotation(determined, rita):
    return issue_quotation(application=determined, actor=rita)


def last_event():
    return AuditEvent.objects.order_by("seq").last()


def quotation_state(application) -> tuple:
    return (list(Quotation.objects.filter(application=application).order_by("pk")
                 .values_list("pk", "status", "accepted_by", "accepted_at", "pdf")),
            AuditEvent.objects.count())


def pdf_text(quotation) -> str:
    """The PDF's text on one line; a line broken after a hyphen ("die-|casting") joined."""
    quotation.refresh_from_db()
    assert quotation.pdf is not None
    with open_stored(quotation.pdf) as handle:
        data = handle.read()
    assert data.startswith(b"%PDF-")
    return pdf_bytes_text(data)


# --- issuing ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("rate", "vat", "amounts", "net", "vat_amount", "total"), [
    # 1.5 x 1333.33 = 1999.995 and 2.5 x 1333.33 = 3333.325: half a cent rounds up, per line.
    ("1333.33", "7.7", ["2000.00", "3333.33", "2000.00", "2000.00"], "9333.33", "718.67",
     "10052.00"),
    # 15 % of 7000.70 = 1050.105: half a cent rounds up (not to the even 1050.10).
    ("1000.10", "15", ["1500.15", "2500.25", "1500.15", "1500.15"], "7000.70", "1050.11",
     "8050.81"),
])
def test_the_quotation_prices_the_cycle_from_the_audit_time(quality, rita, settings, rate, vat,
                                                            amounts, net, vat_amount, total):
    settings.QUOTATION_DAY_RATE = Decimal(rate)
    settings.QUOTATION_CURRENCY = "CHF"
    settings.QUOTATION_VAT_PERCENT = Decimal(vat)
    settings.QUOTATION_VALIDITY_DAYS = 30
    determine_audit_time(application=quality, actor=rita)  # 4 days: 1.5 + 2.5, surveillance 1.5

    quotation = issue_quotation(application=quality, actor=rita)

    quotation.refresh_from_db()
    assert quotation.lines == [
        {"label": "Stage 1 audit", "days": "1.5", "amount": amounts[0]},
        {"label": "Stage 2 audit", "days": "2.5", "amount": amounts[1]},
        {"label": "Surveillance audit 1 (year 2)", "days": "1.5", "amount": amounts[2]},
        {"label": "Surveillance audit 2 (year 3)", "days": "1.5", "amount": amounts[3]},
    ]
    assert (quotation.net_amount, quotation.vat_amount, quotation.total_amount) == (
        Decimal(net), Decimal(vat_amount), Decimal(total))
    assert (quotation.currency, quotation.day_rate, quotation.vat_percent) == (
        "CHF", Decimal(rate), Decimal(vat))
    assert quotation.valid_until == timezone.localdate() + datetime.timedelta(days=30)
    assert (quotation.status, quotation.issued_by, quotation.accepted_at) == ("sent", rita, None)
    assert quotation.application == quality


def test_the_quotation_uses_the_figures_set_by_hand(quotation):
    # The default settings: 1250.00 EUR a day, 19 % VAT, valid for 90 days.
    assert [line["days"] for line in quotation.lines] == ["2.0", "4.0", "2.5", "2.5"]
    assert [line["amount"] for line in quotation.lines] == [
        "2500.00", "5000.00", "3125.00", "3125.00"]
    assert (quotation.net_amount, quotation.vat_amount, quotation.total_amount) == (
        Decimal("13750.00"), Decimal("2612.50"), Decimal("16362.50"))
    assert (quotation.currency, quotation.day_rate) == ("EUR", Decimal("1250.00"))
    assert quotation.valid_until == timezone.localdate() + datetime.timedelta(days=90)


def test_the_quotation_keeps_the_audit_time_and_its_justification(quotation, determined):
    determination = AuditTimeDetermination.objects.get(application=determined)
    audit_time = quotation.audit_time

    assert audit_time["figures"] == {
        "initial_days": "6.0", "stage1_days": "2.0", "stage2_days": "4.0",
        "surveillance_days": "2.5", "recertification_days": "4.0", "min_onsite_days": "5.0"}
    assert audit_time["rows"] == [
        {"label": "Initial audit (stage 1 + stage 2)", "days": "6.0",
         "basis": f"Set by the CB: {WHY_INITIAL}"},
        {"label": "Stage 1", "days": "2.0", "basis": "Calculated (see the explanation below)"},
        {"label": "Stage 2", "days": "4.0", "basis": "Calculated (see the explanation below)"},
        {"label": "Surveillance (each year)", "days": "2.5",
         "basis": f"Set by the CB: {WHY_SURVEILLANCE}"},
        {"label": "Recertification", "days": "4.0",
         "basis": "Calculated (see the explanation below)"},
        {"label": "Minimum on-site", "days": "5.0",
         "basis": "Calculated (see the explanation below)"},
    ]
    assert audit_time["overrides"] == determination.overrides
    assert audit_time["explanation"] == determination.computed["explanation"]
    assert audit_time["sites_to_visit"] == {"initial": 1, "surveillance": 1,
                                            "recertification": 1, "central_function": True}
    assert audit_time["needs_configuration"] == []


def test_quotation_numbers_count_up_within_the_year(determined, rita):
    first = issue_quotation(application=determined, actor=rita)
    second = issue_quotation(application=determined, actor=rita)

    year = timezone.localdate().year
    assert (first.number, second.number) == (f"QUO-{year}-000001", f"QUO-{year}-000002")
    assert NUMBER.match(first.number) and NUMBER.match(second.number)


def test_a_new_quotation_supersedes_the_one_sent(quotation, determined, rita, alice):
    second = issue_quotation(application=determined, actor=rita)

    quotation.refresh_from_db()
    assert (quotation.status, second.status) == ("superseded", "sent")
    assert second.number != quotation.number
    with pytest.raises(Conflict) as refused:
        accept_quotation(quotation=quotation, actor=alice)
    assert refused.value.message.startswith("This quotation is superseded")
    assert accept_quotation(quotation=second, actor=alice).status == "accepted"


def test_issuing_writes_the_audit_event(quotation, determined, rita, nordlicht):
    event = last_event()

    assert event.action == "registration.quotation.issued"
    assert (event.object_type, event.object_id) == ("registration.quotation", str(quotation.pk))
    assert (event.actor, event.organization_id) == (rita, nordlicht.pk)
    assert event.payload == {"application": determined.pk, "number": quotation.number,
                             "total": "16362.50", "currency": "EUR", "day_rate": "1250.00",
                             "day_rate_is_default": True, "adjustment": None}


@pytest.mark.parametrize("who", ["alice", "bob", "adam", "ada"])
def test_only_a_reviewer_issues_a_quotation(determined, who, request):
    actor = request.getfixturevalue(who)
    before = quotation_state(determined)

    with pytest.raises(NotPermitted) as refused:
        issue_quotation(application=determined, actor=actor)

    assert refused.value.message == "Only a CB application reviewer can do this."

    assert quotation_state(determined) == before


def test_a_quotation_needs_a_registered_application(nordlicht, alice, rita):
    application = apply_for(nordlicht, alice, rita,
                            [{"standard": "ISO 9001", "effective_personnel": "30"}],
                            register=False)
    determine_audit_time(application=application, actor=rita)  # allowed under review
    before = quotation_state(application)

    with pytest.raises(Conflict) as refused:
        issue_quotation(application=application, actor=rita)

    assert refused.value.message == "A quotation is issued once the application is registered."
    assert quotation_state(application) == before


def test_a_quotation_needs_a_determined_audit_time(quality, rita):
    before = quotation_state(quality)

    with pytest.raises(Conflict) as refused:
        issue_quotation(application=quality, actor=rita)

    assert refused.value.message.startswith("Determine the audit time first")
    assert quotation_state(quality) == before


# --- accepting ----------------------------------------------------------------------------------

def test_the_owner_accepts_the_quotation(quotation, alice, nordlicht):
    before = timezone.now()

    accepted = accept_quotation(quotation=quotation, actor=alice)

    quotation.refresh_from_db()
    assert quotation.status == "accepted"
    assert quotation.accepted_by == alice
    assert before <= quotation.accepted_at <= timezone.now()
    assert accepted.pk == quotation.pk
    event = last_event()
    assert event.action == "registration.quotation.accepted"
    assert (event.object_type, event.object_id) == ("registration.quotation", str(quotation.pk))
    assert (event.actor, event.organization_id) == (alice, nordlicht.pk)
    assert event.payload == {"application": quotation.application_id, "number": quotation.number,
                             "total": "16362.50", "currency": "EUR"}


@pytest.mark.parametrize("who", ["bob", "vera", "rita", "charlie", "ada"])
def test_only_an_owner_accepts(quotation, who, request):
    actor = request.getfixturevalue(who)
    before = quotation_state(quotation.application)

    with pytest.raises(NotPermitted) as refused:
        accept_quotation(quotation=quotation, actor=actor)

    assert refused.value.message == "Only an owner of the organization can accept a quotation."
    assert quotation_state(quotation.application) == before


def test_charlie_cannot_even_find_alices_quotation(quotation, charlie, alice, bob, rita):
    with pytest.raises(Http404):
        selectors.quotation_get(user=charlie, pk=quotation.pk)
    with pytest.raises(Http404):
        selectors.quotations_for_application(user=charlie, application=quotation.application)
    with pytest.raises(Http404):
        selectors.audit_time_of(user=charlie, application=quotation.application)
    for user in (alice, bob, rita):
        assert selectors.quotation_get(user=user, pk=quotation.pk) == quotation
        assert list(selectors.quotations_for_application(
            user=user, application=quotation.application)) == [quotation]


def test_an_expired_quotation_cannot_be_accepted(quotation, alice):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    Quotation.objects.filter(pk=quotation.pk).update(valid_until=yesterday)
    quotation.refresh_from_db()
    assert quotation.is_expired
    before = quotation_state(quotation.application)

    with pytest.raises(Conflict) as refused:
        accept_quotation(quotation=quotation, actor=alice)

    assert refused.value.message == (f"This quotation expired on {shown(yesterday)}; ask the "
                                     "CB for a new one.")
    assert quotation_state(quotation.application) == before


def test_a_quotation_is_valid_through_its_last_day(quotation, alice):
    Quotation.objects.filter(pk=quotation.pk).update(valid_until=timezone.localdate())
    quotation.refresh_from_db()

    assert not quotation.is_expired
    assert accept_quotation(quotation=quotation, actor=alice).status == "accepted"


def test_a_quotation_is_accepted_once(quotation, alice):
    accept_quotation(quotation=quotation, actor=alice)
    before = quotation_state(quotation.application)

    with pytest.raises(Conflict) as refused:
        accept_quotation(quotation=quotation, actor=alice)

    assert refused.value.message.startswith("This quotation is accepted")
    assert quotation_state(quotation.application) == before


def test_after_acceptance_audit_time_and_quotation_are_fixed(quotation, determined, alice, rita):
    accept_quotation(quotation=quotation, actor=alice)
    determination = AuditTimeDetermination.objects.get(application=determined)
    before = (quotation_state(determined), determination.overrides, determination.initial_days)

    with pytest.raises(Conflict) as redetermine:
        determine_audit_time(application=determined, actor=rita)
    with pytest.raises(Conflict) as reissue:
        issue_quotation(application=determined, actor=rita)

    assert "part of the contract" in redetermine.value.message
    assert reissue.value.message == ("The client already accepted a quotation for this "
                                     "application.")
    determination.refresh_from_db()
    assert (quotation_state(determined), determination.overrides,
            determination.initial_days) == before
    quotation.refresh_from_db()
    assert quotation.status == "accepted"


def test_accepting_moves_the_journey_on_to_the_certification_audit(quotation, alice, nordlicht):
    def journey():
        applications = list(selectors.applications_for_organization(user=alice,
                                                                     organization=nordlicht))
        [journey] = journeys_for_organization(applications)
        return journey.steps

    assert current_step(journey()).key == "gap_analysis"

    accept_quotation(quotation=quotation, actor=alice)

    steps = journey()
    assert current_step(steps).key == "certification_audit"
    assert [(s.key, s.state) for s in steps] == [
        ("registration", "done"), ("gap_analysis", "todo"), ("implementation", "todo"),
        ("internal_audit", "todo"), ("certification_audit", "current"), ("decision", "todo")]
    assert current_step(steps).detail == f"Contract signed (quotation {quotation.number})"


# --- e-mails ------------------------------------------------------------------------------------

def test_the_client_is_sent_the_quotation_and_the_reviewer_its_acceptance(
        determined, rita, alice, bob, vera, django_capture_on_commit_callbacks, settings):
    with django_capture_on_commit_callbacks(execute=True):
        quotation = issue_quotation(application=determined, actor=rita)

    assert len(mail.outbox) == 1
    issued = mail.outbox[0]
    assert sorted(issued.to) == [alice.email, bob.email]  # owners and editors, not viewers
    assert issued.subject == f"Quotation {quotation.number} for Nordlicht Aluminium GmbH"
    assert "Total for the certification cycle: 16362.50 EUR" in issued.body
    assert f"Valid until: {shown(quotation.valid_until)}" in issued.body
    assert f"{settings.SITE_URL}/applications/{determined.pk}/" in issued.body

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        accept_quotation(quotation=quotation, actor=alice)

    assert len(mail.outbox) == 1
    accepted = mail.outbox[0]
    assert accepted.to == [rita.email]  # the application's reviewer
    assert accepted.subject == f"Quotation {quotation.number} accepted by Nordlicht Aluminium GmbH"
    assert "is the certification contract" in accepted.body


def test_nothing_is_sent_when_issuing_is_refused(quality, rita,
                                                 django_capture_on_commit_callbacks):
    with (django_capture_on_commit_callbacks(execute=True) as callbacks,
          pytest.raises(Conflict)):
        issue_quotation(application=quality, actor=rita)

    assert callbacks == []
    assert mail.outbox == []


# --- the PDF ------------------------------------------------------------------------------------

def test_the_pdf_is_rendered_after_commit_with_the_justification(
        determined, rita, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        quotation = issue_quotation(application=determined, actor=rita)
    quotation.refresh_from_db()
    assert quotation.pdf is None  # nothing before the commit
    for callback in callbacks:
        callback()

    text = pdf_text(quotation)

    assert quotation.pdf.content_type == "application/pdf"
    assert f"Quotation {quotation.number}" in text
    assert "Nordlicht Aluminium GmbH" in text
    assert determined.registration_number in text
    assert "16362.50 EUR" in text
    assert "Audit-time determination" in text
    assert f"Set by the CB: {WHY_INITIAL}" in text
    assert f"Set by the CB: {WHY_SURVEILLANCE}" in text
    assert "Accepted online" not in text

    rendered = quotation.pdf_id
    with django_capture_on_commit_callbacks(execute=True):
        accept_quotation(quotation=quotation, actor=alice)

    quotation.refresh_from_db()
    assert quotation.pdf_id != rendered  # rendered again, as the contract
    accepted_at = timezone.localtime(quotation.accepted_at, datetime.UTC)
    assert (f"Accepted online on {shown(accepted_at)}, {accepted_at:%H:%M} UTC by "
            "alice@nordlicht.example" in pdf_text(quotation))


def test_the_pdf_states_the_acceptance_time_in_utc_whatever_the_cbs_time_zone(
        quotation, alice, settings, django_capture_on_commit_callbacks):
    settings.TIME_ZONE = "Asia/Kolkata"  # UTC+05:30: no hour or date could match by chance

    with django_capture_on_commit_callbacks(execute=True):
        accept_quotation(quotation=quotation, actor=alice)

    quotation.refresh_from_db()
    accepted_at = timezone.localtime(quotation.accepted_at, datetime.UTC)
    assert (f"Accepted online on {shown(accepted_at)}, {accepted_at:%H:%M} UTC"
            in pdf_text(quotation))


def test_the_pdf_of_a_superseded_quotation_says_so(quotation, determined, rita,
                                                   django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        issue_quotation(application=determined, actor=rita)
    render_quotation_pdf_file(quotation=Quotation.objects.get(pk=quotation.pk))

    assert "Superseded by a later quotation." in pdf_text(quotation)


# --- the pages ----------------------------------------------------------------------------------

def test_the_client_sees_and_accepts_the_quotation_on_the_application_page(
        quotation, alice, bob, django_capture_on_commit_callbacks):
    owner, editor = client_for(alice), client_for(bob)
    url = f"/applications/{quotation.application_id}/"

    page = owner.get(url).content.decode()
    assert f"Quotation {quotation.number}" in page
    assert "16362.50 EUR" in page
    assert WHY_INITIAL in page
    assert "Accept quotation" in page
    assert "Accept quotation" not in editor.get(url).content.decode()

    unconfirmed = owner.post(f"/quotations/{quotation.pk}/accept/", {})
    assert unconfirmed.status_code == 302
    quotation.refresh_from_db()
    assert quotation.status == "sent"

    refused = editor.post(f"/quotations/{quotation.pk}/accept/", {"confirm": "on"})
    assert refused.status_code == 302
    quotation.refresh_from_db()
    assert quotation.status == "sent"

    with django_capture_on_commit_callbacks(execute=True):
        accepted = owner.post(f"/quotations/{quotation.pk}/accept/", {"confirm": "on"})
    assert accepted.status_code == 302
    assert accepted["Location"] == f"{url}#quotation"
    quotation.refresh_from_db()
    assert (quotation.status, quotation.accepted_by) == ("accepted", alice)
    assert f"Quotation {quotation.number} accepted" in owner.get(url).content.decode()


def test_the_pdf_download_waits_for_the_rendering(quotation, alice,
                                                  django_capture_on_commit_callbacks):
    client = client_for(alice)

    waiting = client.get(f"/quotations/{quotation.pk}/pdf/")
    assert waiting.status_code == 302
    assert waiting["Location"] == f"/applications/{quotation.application_id}/"

    render_quotation_pdf_file(quotation=quotation)
    download = client.get(f"/quotations/{quotation.pk}/pdf/")
    assert download.status_code == 200
    assert download["Content-Disposition"] == f'attachment; filename="{quotation.number}.pdf"'
    assert download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content).startswith(b"%PDF-")


def test_the_client_timeline_shows_the_audit_time_and_the_quotation(registered, rita, alice):
    from isocert.registration.selectors import application_timeline
    from isocert.registration.services import determine_audit_time, issue_quotation

    # The fixture applies for ISO 50001; no ISO 50003 table is configured: days by hand.
    determine_audit_time(application=registered, actor=rita, overrides={
        "initial_days": {"value": "6", "justification": "No ISO 50003 table entered yet."}})
    quotation = issue_quotation(application=registered, actor=rita)
    actions = [e.action for e in application_timeline(user=alice, application=registered)]
    assert actions[-2:] == ["registration.audit_time.determined", "registration.quotation.issued"]
    page = client_for(alice).get(f"/applications/{registered.pk}/")
    assert f"Quotation {quotation.number} issued" in page.content.decode()
    assert "Audit time determined" in page.content.decode()


# --- the preview page: the price edited before sending (issue #19) ------------------------------

def test_the_preview_page_shows_the_price_and_sends_nothing(determined, rita, api_client):
    client = api_client(rita)
    before = quotation_state(determined)

    page = client.get(f"/review/{determined.pk}/quotation/")

    html = page.content.decode()
    assert page.status_code == 200
    # 2 + 4 + 2 x 2.5 days at 1250.00 = 13750.00, 19 % VAT.
    assert "16362.50 EUR" in html and 'value="1250' in html
    assert quotation_state(determined) == before


def test_a_bad_adjustment_is_named_on_its_field_and_kept(determined, rita, api_client):
    client = api_client(rita)
    before = quotation_state(determined)

    page = client.post(f"/review/{determined.pk}/quotation/", {
        "day_rate": "1250", "adjustment": "-300", "adjustment_reason": "", "action": "send"})

    html = page.content.decode()
    assert page.status_code == 422
    assert "Explain the adjustment (at least 5 characters)." in html
    assert 'value="-300"' in html
    assert quotation_state(determined) == before


def test_sending_from_the_preview_issues_the_edited_price(determined, rita, api_client):
    client = api_client(rita)

    sent = client.post(f"/review/{determined.pk}/quotation/", {
        "day_rate": "1000", "adjustment": "250", "adjustment_reason": "Travel to the islands",
        "action": "send"})

    assert sent.status_code == 302
    quotation = Quotation.objects.get(application=determined)
    assert str(quotation.day_rate) == "1000.00"
    # 11 days at 1000.00 + 250.00 surcharge.
    assert str(quotation.net_amount) == "11250.00"
    assert quotation.lines[-1] == {"label": "Adjustment: Travel to the islands", "days": "",
                                   "amount": "250.00"}
