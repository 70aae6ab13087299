"""Helpers for the edition-transition tests: a fictitious new edition of a shipped standard
and the CB's transition to it.

isocert ships no transition and no second edition; these exist only in the test database.
The new edition copies the shipped clauses, retitles some (a changed requirement) and adds
one (a new requirement), so a carried gap analysis has rows to copy and rows to leave blank.
"""

import datetime

from django.utils import timezone

from isocert.catalog.models import Clause, Standard
from isocert.certification import editions

NEW_EDITION = "2030"  # fictitious: no such edition is shipped
NOTICE = "IAF MD 26:2023 (test notice)"
NEW_CLAUSE = "8.8"


def new_edition(code: str = "ISO 9001", *, edition: str = NEW_EDITION,
                retitled=("8.3",)) -> tuple[Standard, Standard]:
    """The shipped current edition of ``code`` and a new one loaded beside it (not current
    until a transition supersedes the old one)."""
    old = Standard.objects.get(code=code, is_current=True)
    new = Standard.objects.create(code=code, edition=edition, title=old.title,
                                  data_version=1, is_current=False)
    copies: dict[int, Clause] = {}
    position = 0
    for clause in old.clauses.order_by("position"):
        position += 1
        title = clause.title + (" (revised)" if clause.number in retitled else "")
        copies[clause.pk] = Clause.objects.create(
            standard=new, group=clause.group, number=clause.number, title=title,
            guidance=clause.guidance, parent=copies.get(clause.parent_id), depth=clause.depth,
            position=position)
    Clause.objects.create(standard=new, group="clauses", number=NEW_CLAUSE,
                          title="A requirement new in this edition", guidance="New.",
                          depth=1, position=position + 1,
                          parent=Clause.objects.filter(standard=new, number="8").first())
    return old, new


def deadline_in(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


def transition_to_new_edition(ada, code: str = "ISO 9001", *, days: int = 400, **extra):
    """The CB's transition from the shipped edition of ``code`` to a new one."""
    old, new = new_edition(code)
    return editions.record_transition(from_standard=old, to_standard=new,
                                      deadline=deadline_in(days), notice_reference=NOTICE,
                                      actor=ada, **extra)


__all__ = ["NEW_CLAUSE", "NEW_EDITION", "NOTICE", "deadline_in", "new_edition",
           "transition_to_new_edition"]
