"""The work queue's finder (``rules.free_qualified_auditors``) reads many audits at once and
must say what ``member_problems`` says of each auditor and audit: qualified for a standard,
impartial towards the client (ISO/IEC 17021-1 §5.2), free on the audit's dates."""

import datetime

import pytest
import queues_helpers as make
from programme_helpers import auditor, relationship

from isocert.audits.programme.rules import (
    ProgrammeReads,
    free_qualified_auditors,
    member_problems,
)

pytestmark = pytest.mark.django_db


def test_the_batch_finder_agrees_with_member_problems(nordlicht, brightpath, lead):
    today = make.today()
    quinn = auditor("quinn@cb.example", "Quinn Qualified")
    ned = auditor("ned@cb.example", "Ned NotQualified", standards=("ISO 14001",))
    connie = auditor("connie@cb.example", "Connie Consultant")
    relationship(connie, nordlicht, start=today - datetime.timedelta(days=900),
                 end=today - datetime.timedelta(days=30))
    old = auditor("olga@cb.example", "Olga Long-ago")
    relationship(old, nordlicht, start=datetime.date(2010, 1, 1),
                 end=datetime.date(2012, 1, 1))
    busy = auditor("bea@cb.example", "Bea Busy")
    make.audit(brightpath, start=10, lead=busy)
    audits = [make.audit(nordlicht, start=10), make.audit(nordlicht, start=40),
              make.audit(nordlicht), make.audit(brightpath, start=11)]
    found = free_qualified_auditors(audits)
    for audit in audits:
        for person in (lead, quinn, ned, connie, old, busy):
            problems = member_problems(person, audit, "member")
            assert (person in found[audit.pk]) == (not problems), (audit, person, problems)
    assert found[audits[0].pk] == [lead, old, quinn]        # lead auditors first
    assert busy in found[audits[1].pk] and connie in found[audits[3].pk]


def test_no_audits_no_queries(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert free_qualified_auditors([]) == {}


def test_the_unexplained_problems_name_the_same_rules(nordlicht, brightpath, lead):
    """The planning page's finder asks ``member_problems(explain=False)``: the same rules
    broken, without their messages (a clash and a declared relationship)."""
    today = make.today()
    connie = auditor("connie@cb.example", "Connie Consultant")
    relationship(connie, nordlicht, start=today - datetime.timedelta(days=900))
    busy = auditor("bea@cb.example", "Bea Busy")
    make.audit(brightpath, start=10, lead=busy)
    ned = auditor("ned@cb.example", "Ned NotQualified", standards=("ISO 14001",))
    audit = make.audit(nordlicht, start=10)
    reads = ProgrammeReads([audit], users=[lead, connie, busy, ned])
    for person in (lead, connie, busy, ned):
        for role in ("lead", "member"):
            explained = reads.member_problems(person, audit, role)
            assert set(reads.member_problems(person, audit, role, explain=False)) == \
                set(explained), (person, role)
    assert set(reads.member_problems(busy, audit, "member", explain=False)) == {"dates"}
    assert set(reads.member_problems(connie, audit, "member", explain=False)) == {
        "impartiality"}
