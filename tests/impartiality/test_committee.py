"""The committee for safeguarding impartiality (ISO/IEC 17021-1 §6.2): members and the
interest each represents, meetings from planned to held to minutes approved — a majority of
one interest is warned, not refused — and every refusal."""

import datetime

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from isocert.core.errors import InvalidInput, NotPermitted, TransitionNotAllowed
from isocert.core.models import AuditEvent
from isocert.impartiality import committee
from isocert.impartiality.models import CommitteeMeeting, CommitteeMember

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def _state(meeting=None):
    rows = (CommitteeMember.objects.count(), CommitteeMeeting.objects.count(),
            AuditEvent.objects.filter(action__startswith="impartiality.").count())
    if meeting is None:
        return rows
    meeting = CommitteeMeeting.objects.get(pk=meeting.pk)
    return rows + (meeting.status, meeting.minutes, meeting.attendees.count())


def test_a_member_is_appointed_with_the_interest_represented(members):
    assert [m.get_interest_display() for m in members] == [
        "Clients", "Government and regulators", "NGOs and consumers"]
    event = AuditEvent.objects.filter(action="impartiality.committee_member.added").first()
    assert event.payload["interest"] == "clients"


@pytest.mark.parametrize("values, field", [
    ({"name": ""}, "name"),
    ({"interest": "lobbyists"}, "interest"),
    ({"email": "not-an-address"}, "email"),
    ({"appointed_on": ""}, "appointed_on"),
    ({"term_ends_on": "2020-01-01"}, "term_ends_on"),
])
def test_a_bad_member_names_the_field_and_records_nothing(ada, values, field):
    before = _state()
    data = {"name": "Iris Industry", "interest": "industry", "email": "iris@wv.example",
            "appointed_on": "2026-01-01"} | values
    with pytest.raises(InvalidInput) as refused:
        committee.add_committee_member(actor=ada, **data)
    assert field in refused.value.fields
    assert _state() == before


def test_only_administrators_appoint(dora):
    with pytest.raises(NotPermitted):
        committee.add_committee_member(name="X Y", interest="cb", email="x@cb.example",
                                       appointed_on="2026-01-01", actor=dora)
    assert not CommitteeMember.objects.exists()


def test_a_member_who_leaves_is_kept_inactive(members, ada):
    member = committee.update_committee_member(member=members[0], actor=ada, active=False)
    assert member.active is False
    event = AuditEvent.objects.get(action="impartiality.committee_member.updated")
    assert event.payload["changes"] == {"active": {"from": True, "to": False}}


def test_a_meeting_is_held_and_its_minutes_approved(meeting, members, risk, ada,
                                                    django_capture_on_commit_callbacks):
    committee.hold_meeting(meeting=meeting, actor=ada, attendees=members,
                           minutes="The register was read; no new threat.",
                           minutes_file=SimpleUploadedFile("minutes.pdf", PDF),
                           risks_reviewed=[risk])
    meeting.refresh_from_db()
    assert meeting.status == "held"
    assert meeting.predominant_interest == "" and committee.meeting_warnings(meeting) == []
    assert meeting.minutes_filename == "minutes.pdf" and meeting.minutes_file is not None
    assert list(meeting.risks_reviewed.all()) == [risk]

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        committee.approve_minutes(meeting=meeting, actor=ada)
    meeting.refresh_from_db()
    assert (meeting.status, meeting.approved_by) == ("minutes_approved", ada)
    assert sorted(mail.outbox[0].to) == sorted(m.email for m in members)
    assert "no new threat" in mail.outbox[0].body
    assert list(AuditEvent.objects.filter(action__startswith="impartiality.meeting.")
                .values_list("action", flat=True)) == [
        "impartiality.meeting.planned", "impartiality.meeting.held",
        "impartiality.meeting.minutes_approved"]


def test_a_majority_of_one_interest_is_warned_not_refused(meeting, members, ada):
    two_clients = [members[0], committee.add_committee_member(
        name="Kurt Kunde", interest="clients", email="kurt@kunde.example",
        appointed_on=timezone.localdate(), actor=ada)]
    committee.hold_meeting(meeting=meeting, actor=ada, attendees=[*two_clients, members[1]],
                           minutes="Two client representatives and a regulator met.")
    meeting.refresh_from_db()
    assert meeting.status == "held" and meeting.predominant_interest == "clients"
    [warning] = committee.meeting_warnings(meeting)
    assert "Clients formed a majority" in warning and "§6.2" in warning
    event = AuditEvent.objects.get(action="impartiality.meeting.held")
    assert event.payload["predominant_interest"] == "clients"


def test_half_is_not_a_majority():
    members = [CommitteeMember(interest="clients"), CommitteeMember(interest="cb")]
    assert committee.predominant_interest(members) == ""
    assert committee.predominant_interest(members[:1]) == "clients"


def test_minutes_of_a_meeting_not_held_are_not_approved(meeting, ada):
    before = _state(meeting)
    with pytest.raises(TransitionNotAllowed):
        committee.approve_minutes(meeting=meeting, actor=ada)
    assert _state(meeting) == before


def test_a_meeting_is_held_once(meeting, members, ada):
    committee.hold_meeting(meeting=meeting, actor=ada, attendees=members, minutes="First.")
    before = _state(meeting)
    with pytest.raises(TransitionNotAllowed):
        committee.hold_meeting(meeting=meeting, actor=ada, attendees=members[:1],
                               minutes="Second.")
    assert _state(meeting) == before


def test_minutes_are_needed_to_approve_them(meeting, members, ada):
    committee.hold_meeting(meeting=meeting, actor=ada, attendees=members)
    before = _state(meeting)
    with pytest.raises(InvalidInput) as refused:
        committee.approve_minutes(meeting=meeting, actor=ada)
    assert "minutes" in refused.value.fields
    assert _state(meeting) == before


@pytest.mark.parametrize("case", ["nobody", "inactive", "future", "bad_file", "reader"])
def test_holding_is_refused_and_changes_nothing(case, meeting, members, ada, dora):
    attendees, actor, upload = members, ada, None
    if case == "nobody":
        attendees = []
    elif case == "inactive":
        committee.update_committee_member(member=members[0], actor=ada, active=False)
        attendees = [CommitteeMember.objects.get(pk=members[0].pk)]
    elif case == "future":
        meeting = committee.plan_meeting(actor=ada, agenda="Next year's review.",
                                         date=timezone.localdate() + datetime.timedelta(days=9))
    elif case == "bad_file":
        upload = SimpleUploadedFile("minutes.exe", b"MZ\x90\x00 not a document")
    else:
        actor = dora
    before = _state(meeting)
    with pytest.raises((InvalidInput, NotPermitted)):
        committee.hold_meeting(meeting=meeting, actor=actor, attendees=attendees,
                               minutes="Minutes.", minutes_file=upload)
    assert _state(meeting) == before
