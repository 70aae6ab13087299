"""Audit-time engine: initial, stage, surveillance and recertification days.

Pure functions over plain data. Nothing here touches the database or Django, so
the same code serves the public estimator, the application review, the API and
the ``isocert audit-time`` command, and can be tested exhaustively.

Rules (the project's certification-rules digest, section 3): IAF MD 5 tables
and adjustments, ISO/IEC 27006 for ISMS, ISO 50003 for EnMS complexity, IAF
MD 11 for integrated systems and IAF MD 1 for multi-site sampling. The day
tables are read from ``data/audit-time-tables.json``; the ISO 50003 day table
is entered by the certification body and passed in, because its figures were
never confirmed and must not be invented.

All arithmetic is exact (``Fraction``); numbers become floats only in the
returned, JSON-ready result.

``tables`` holds the rules as data and the exact arithmetic, ``inputs`` reads and checks
the input, ``compute`` applies the rules; this package names what callers use.
"""

from .compute import compute_audit_time
from .inputs import load_audit_time_json
from .tables import (
    COMPLEXITY_LEVELS,
    DEFAULT_STAGE1_SHARE,
    ENMS,
    TABLES_PATH,
    AuditTimeInputError,
    ceil_half_day,
    ceil_k_sqrt,
    enms_complexity,
    load_tables,
    round_half_day,
    sites_to_visit,
)

__all__ = [
    "COMPLEXITY_LEVELS", "DEFAULT_STAGE1_SHARE", "ENMS", "TABLES_PATH", "AuditTimeInputError",
    "ceil_half_day", "ceil_k_sqrt", "compute_audit_time", "enms_complexity",
    "load_audit_time_json", "load_tables", "round_half_day", "sites_to_visit",
]
