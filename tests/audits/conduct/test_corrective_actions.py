"""The client answers nonconformities; the audit team returns, accepts or verifies."""

import pytest
from conduct_helpers import ANSWER, PDF, events, finding_data, make_audit
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from isocert.accounts.models import Membership
from isocert.audits.conduct import services as conduct
from isocert.audits.models import CorrectiveActionResponse
from isocert.core.errors import InvalidInput, NotPermitted, TransitionNotAllowed
from isocert.core.models import AuditEvent


@pytest.fixture
def audit(registered, adam):
    return make_audit(registered, adam)


@pytest.fixture
def minor(audit, adam):
    return conduct.create_finding(audit=audit, actor=adam, **finding_data(audit, "minor"))


@pytest.fixture
def major(audit, adam):
    return conduct.create_finding(audit=audit, actor=adam, **finding_data(audit, "major"))


@pytest.fixture
def viola(nordlicht):
    from factories import make_user

    user = make_user("viola@nordlicht.example", "Viola Viewer")
    Membership.objects.create(organization=nordlicht, user=user, role=Membership.Role.VIEWER)
    return user


def test_the_owner_answers_with_evidence_and_the_team_is_told(minor, alice,
                                                             django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = conduct.submit_corrective_action(
            finding=minor, actor=alice, **ANSWER,
            upload=SimpleUploadedFile("register.pdf", PDF))

    minor.refresh_from_db()
    assert minor.status == "submitted"
    assert (response.version, response.review, response.evidence_name) == (1, "pending",
                                                                           "register.pdf")
    assert AuditEvent.objects.last().action == "audits.corrective_action.submitted"
    assert [m.to for m in mail.outbox] == [["adam@cb.example"]]
    assert "finding #1" in mail.outbox[0].subject


@pytest.mark.parametrize("who", ["viola", "charlie", "rita", "adam"])
def test_only_owners_and_editors_answer(minor, request, who):
    actor = request.getfixturevalue(who)
    before = events()

    with pytest.raises(NotPermitted):
        conduct.submit_corrective_action(finding=minor, actor=actor, **ANSWER)

    minor.refresh_from_db()
    assert minor.status == "open"
    assert not CorrectiveActionResponse.objects.exists()
    assert events() == before


def test_an_editor_answers_too(minor, bob):
    conduct.submit_corrective_action(finding=minor, actor=bob, **ANSWER)
    minor.refresh_from_db()
    assert minor.status == "submitted"


def test_an_answer_needs_all_three_parts(minor, alice):
    before = events()

    with pytest.raises(InvalidInput) as refused:
        conduct.submit_corrective_action(finding=minor, actor=alice,
                                         correction="Done", root_cause=" ")

    assert set(refused.value.fields) == {"root_cause", "corrective_action"}
    assert not CorrectiveActionResponse.objects.exists()
    assert events() == before


def test_observations_and_opportunities_need_no_answer(audit, adam, alice):
    for grade in ("observation", "opportunity"):
        finding = conduct.create_finding(audit=audit, actor=adam, **finding_data(audit, grade))
        assert finding.status == "n/a"
        with pytest.raises(TransitionNotAllowed, match="needs no corrective action"):
            conduct.submit_corrective_action(finding=finding, actor=alice, **ANSWER)
    assert not CorrectiveActionResponse.objects.exists()


def test_a_second_answer_while_one_awaits_review_is_refused(minor, alice):
    conduct.submit_corrective_action(finding=minor, actor=alice, **ANSWER)
    with pytest.raises(TransitionNotAllowed):
        conduct.submit_corrective_action(finding=minor, actor=alice, **ANSWER)
    assert minor.responses.count() == 1


def test_return_needs_a_comment_and_every_version_is_kept(minor, alice, adam,
                                                          django_capture_on_commit_callbacks):
    conduct.submit_corrective_action(finding=minor, actor=alice, **ANSWER)
    before = events()

    with pytest.raises(InvalidInput) as refused:
        conduct.review_corrective_action(finding=minor, actor=adam, decision="return",
                                         comment="  ")
    assert list(refused.value.fields) == ["comment"]
    minor.refresh_from_db()
    assert minor.status == "submitted" and events() == before
    assert minor.responses.get().review == "pending"

    with django_capture_on_commit_callbacks(execute=True):
        conduct.review_corrective_action(finding=minor, actor=adam, decision="return",
                                         comment="The root cause is a symptom; ask why twice.")
    minor.refresh_from_db()
    assert minor.status == "returned"
    assert mail.outbox[-1].to == ["alice@nordlicht.example", "bob@nordlicht.example"]
    assert "ask why twice" in mail.outbox[-1].body

    conduct.submit_corrective_action(finding=minor, actor=alice, **{
        **ANSWER, "root_cause": "No owner for the register after the 2024 reorganisation."})
    conduct.review_corrective_action(finding=minor, actor=adam, decision="accept")

    minor.refresh_from_db()
    assert minor.status == "plan_accepted"
    versions = list(minor.responses.order_by("version").values_list(
        "version", "review", "review_comment", "reviewed_by"))
    assert versions == [
        (1, "returned", "The root cause is a symptom; ask why twice.", adam.pk),
        (2, "accepted", "", adam.pk)]
    assert minor.responses.get(version=1).root_cause == ANSWER["root_cause"]
    # A minor's accepted plan is final: its effectiveness is checked at the next audit.
    with pytest.raises(TransitionNotAllowed, match="next audit"):
        conduct.submit_corrective_action(finding=minor, actor=alice, **ANSWER)


def test_verify_is_only_for_majors(minor, alice, adam):
    conduct.submit_corrective_action(finding=minor, actor=alice, **ANSWER)
    before = events()

    with pytest.raises(TransitionNotAllowed, match="major"):
        conduct.review_corrective_action(finding=minor, actor=adam, decision="verify")

    minor.refresh_from_db()
    assert minor.status == "submitted"
    assert minor.responses.get().review == "pending"
    assert events() == before


def test_a_major_is_accepted_then_verified_on_its_implementation(major, alice, adam):
    conduct.submit_corrective_action(finding=major, actor=alice, **ANSWER)
    conduct.review_corrective_action(finding=major, actor=adam, decision="accept")
    major.refresh_from_db()
    assert major.status == "plan_accepted"

    conduct.submit_corrective_action(finding=major, actor=alice, upload=SimpleUploadedFile(
        "implemented.pdf", PDF), **{**ANSWER, "correction": "Register updated, trained."})
    conduct.review_corrective_action(finding=major, actor=adam, decision="verify",
                                     comment="Seen on site.")

    major.refresh_from_db()
    assert major.status == "verified"
    assert list(major.responses.order_by("version").values_list("review", flat=True)) == [
        "accepted", "verified"]
    assert AuditEvent.objects.last().action == "audits.corrective_action.verified"


@pytest.mark.parametrize("who", ["rita", "alice", "dora"])
def test_only_the_team_reviews(minor, alice, request, who):
    conduct.submit_corrective_action(finding=minor, actor=alice, **ANSWER)
    actor = request.getfixturevalue(who)
    before = events()

    with pytest.raises(NotPermitted):
        conduct.review_corrective_action(finding=minor, actor=actor, decision="accept")

    minor.refresh_from_db()
    assert minor.status == "submitted" and events() == before


def test_reviews_go_on_after_the_audit_is_closed(minor, alice, adam, audit):
    conduct.submit_corrective_action(finding=minor, actor=alice, **ANSWER)
    type(audit).objects.filter(pk=audit.pk).update(status="closed")

    conduct.review_corrective_action(finding=minor, actor=adam, decision="accept")

    minor.refresh_from_db()
    assert minor.status == "plan_accepted"


def test_nothing_can_be_reviewed_before_an_answer(minor, adam):
    with pytest.raises(TransitionNotAllowed):
        conduct.review_corrective_action(finding=minor, actor=adam, decision="accept")
    with pytest.raises(InvalidInput):
        conduct.review_corrective_action(finding=minor, actor=adam, decision="approve")


def test_an_unknown_review_decision_is_named_as_the_form_offers_them(minor, alice, adam):
    conduct.submit_corrective_action(finding=minor, actor=alice, **ANSWER)
    with pytest.raises(InvalidInput) as refused:
        conduct.review_corrective_action(finding=minor, actor=adam, decision="approve")
    assert refused.value.fields["decision"] == (
        "Choose the decision: Accept the plan, Verify implementation (major) or Return with "
        "comments.")
