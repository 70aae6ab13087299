"""Gap-free, duplicate-free numbers under concurrent writers."""

from django.db import transaction

from .models import NumberSequence


def next_value(name: str, period: str = "") -> int:
    """Reserve the next value of a counter, inside the caller's transaction.

    The counter row is locked (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's
    IMMEDIATE transactions serialize writers), so two concurrent callers never
    get the same value, and a rolled-back caller gives its value back.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_value must run inside a transaction")
    NumberSequence.objects.get_or_create(name=name, period=period)
    seq = NumberSequence.objects.select_for_update().get(name=name, period=period)
    seq.last_value += 1
    seq.save(update_fields=["last_value"])
    return seq.last_value
