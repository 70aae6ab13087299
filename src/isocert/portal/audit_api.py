"""The audit trail for CB administrators (``GET /api/v1/audit-events``)."""

import datetime

from ninja import Router, Schema

from .selectors import audit_events

router = Router(tags=["audit trail"])


class AuditEventOut(Schema):
    seq: int
    created_at: datetime.datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    organization_id: int | None
    payload: dict
    hash: str


@router.get("/audit-events", response=list[AuditEventOut],
            summary="Browse the audit trail (CB administrators)",
            # The id it had when the router lived in core: clients generated from the
            # OpenAPI document keep their method name.
            operation_id="isocert_core_audit_api_list_audit_events",
            description="Newest first, at most `limit` (≤ 500) events before `before_seq`. "
                        "`actor`: the events of the people whose e-mail contains it (also "
                        "those recorded under an earlier e-mail), and the portal's own "
                        "(`system`) when it is part of that word.")
def list_audit_events(request, action: str = "", object_type: str = "", actor: str = "",
                      organization_id: int | None = None, date_from: datetime.date | None = None,
                      date_to: datetime.date | None = None, before_seq: int | None = None,
                      limit: int = 100):
    queryset = audit_events(user=request.auth, action=action, object_type=object_type,
                            actor=actor, organization_id=organization_id,
                            date_from=date_from, date_to=date_to)
    if before_seq:
        queryset = queryset.filter(seq__lt=before_seq)
    return [{**{f: getattr(e, f) for f in ("seq", "created_at", "action", "object_type",
                                          "object_id", "organization_id", "payload", "hash")},
             "actor": e.actor_label} for e in queryset[: max(1, min(limit, 500))]]
