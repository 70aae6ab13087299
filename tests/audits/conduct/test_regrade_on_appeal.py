"""A finding regraded because an appeal against its grading was upheld (ISO/IEC 17021-1
§9.7): at any point of the corrective action, by CB staff with a reason; the
corrective-action requirements follow the new grade. Refusals change nothing."""

import pytest
from conduct_helpers import ANSWER, events, finding_data, make_audit

from isocert.audits.conduct import services as conduct
from isocert.audits.models import Finding
from isocert.core.errors import InvalidInput, NotPermitted
from isocert.core.models import AuditEvent

pytestmark = pytest.mark.django_db
WHY = "Appeal APL-2026-000001 upheld: the evidence shows a single lapse."


@pytest.fixture
def audit(registered, adam):
    return make_audit(registered, adam)


def _finding(audit, adam, grade):
    return conduct.create_finding(audit=audit, actor=adam, **finding_data(audit, grade))


def test_a_major_answered_becomes_a_minor_without_verification(audit, adam, alice, ada):
    major = _finding(audit, adam, "major")
    conduct.submit_corrective_action(finding=major, actor=alice, **ANSWER)
    major.refresh_from_db()
    plan_due = major.plan_due
    assert major.verification_due is not None

    finding = conduct.regrade_finding_on_appeal(finding=major, actor=ada, grade="minor",
                                                reason=WHY)
    assert (finding.grade, finding.status) == ("minor", "submitted")
    assert (finding.plan_due, finding.verification_due) == (plan_due, None)
    event = AuditEvent.objects.filter(action="audits.finding.regraded").get()
    assert event.actor == ada
    assert (event.payload["from"], event.payload["to"], event.payload["reason"]) == (
        "major", "minor", WHY)
    # As a minor, accepting the plan ends its corrective action.
    conduct.review_corrective_action(finding=finding, actor=adam, decision="accept")
    finding.refresh_from_db()
    assert finding.status == "plan_accepted"


def test_a_nonconformity_become_an_observation_needs_no_answer(audit, adam, alice, ada):
    minor = _finding(audit, adam, "minor")
    conduct.submit_corrective_action(finding=minor, actor=alice, **ANSWER)
    finding = conduct.regrade_finding_on_appeal(finding=minor, actor=ada, grade="observation",
                                                reason=WHY)
    assert (finding.status, finding.plan_due, finding.verification_due) == (
        Finding.Status.NOT_APPLICABLE, None, None)
    assert finding.responses.count() == 1   # the answer stays on record


def test_an_observation_become_a_minor_opens_a_corrective_action(audit, adam, ada):
    observation = _finding(audit, adam, "observation")
    finding = conduct.regrade_finding_on_appeal(finding=observation, actor=ada, grade="minor",
                                                reason=WHY)
    assert finding.status == Finding.Status.OPEN
    assert finding.plan_due is not None and finding.verification_due is None


@pytest.mark.parametrize(("who", "grade", "reason", "error"), [
    ("alice", "minor", WHY, NotPermitted),          # not CB staff
    ("ada", "major", WHY, InvalidInput),            # the grade it has
    ("ada", "critical", WHY, InvalidInput),         # no such grade
    ("ada", "minor", "  ", InvalidInput),           # no reason
])
def test_refusals_change_nothing(audit, adam, who, grade, reason, error, request):
    major = _finding(audit, adam, "major")
    actor = request.getfixturevalue(who)
    before = events()
    with pytest.raises(error):
        conduct.regrade_finding_on_appeal(finding=major, actor=actor, grade=grade,
                                          reason=reason)
    major.refresh_from_db()
    assert (major.grade, major.status) == ("major", "open")
    assert major.verification_due is not None
    assert events() == before
