"""Changes made in the Django admin go to the audit trail like any other change.

The admin writes models directly, past the services that record events. This mixin
records, for each add, change and delete, the audited fields before and after, with the
acting administrator, inside the admin's own transaction (Django runs its add, change and
delete views in ``transaction.atomic``; the bulk delete action is wrapped here). House
rule 4 (every state change writes an audit event), issue #13; the qualifications of the
CB's people are records ISO/IEC 17021-1 §7.2 asks the CB to keep up to date.
"""

from django.contrib import admin
from django.db import router, transaction

from isocert.core.audit import record_event


class AuditedAdminMixin:
    """Put before ``admin.ModelAdmin``; set ``audit_action`` and ``audit_fields``."""

    #: Dotted prefix of the recorded actions, e.g. ``audits.auditor_profile``: the events
    #: are ``<prefix>.created``, ``<prefix>.updated`` and ``<prefix>.deleted``.
    audit_action = ""
    #: Model fields (many-to-many included) whose values are recorded.
    audit_fields: tuple[str, ...] = ()

    def audit_snapshot(self, obj) -> dict:
        """The audited values of ``obj``: relations by their name, many-to-many sorted."""
        values = {}
        for name in self.audit_fields:
            field = obj._meta.get_field(name)
            if field.many_to_many:
                values[name] = sorted(str(related) for related in getattr(obj, name).all())
            elif field.is_relation:
                related = getattr(obj, name)
                values[name] = None if related is None else str(related)
            else:
                values[name] = getattr(obj, field.attname)
        return values

    def audit_subject(self, obj) -> dict:
        """What the event is about, in words (added to every payload)."""
        return {"object": str(obj)}

    def audit_verb(self, changes: dict) -> str:
        return "updated"

    def _stored_snapshot(self, obj) -> dict:
        # The form has already written its values onto ``obj``: read the stored row.
        return self.audit_snapshot(type(obj)._default_manager.get(pk=obj.pk))

    def _record(self, request, obj, action: str, payload: dict) -> None:
        record_event(actor=request.user, action=f"{self.audit_action}.{action}", obj=obj,
                     payload={"via": "admin", **self.audit_subject(obj), **payload})

    def save_model(self, request, obj, form, change):
        obj._audit_before = self._stored_snapshot(obj) if change else None
        super().save_model(request, obj, form, change)

    def record_admin_save(self, request, obj) -> None:
        """Record the save of ``obj`` (after ``save_model`` and its many-to-many)."""
        before = getattr(obj, "_audit_before", None)
        after = self._stored_snapshot(obj)
        if before is None:
            self._record(request, obj, "created", {"values": after})
            return
        changes = {name: {"from": before[name], "to": after[name]}
                   for name in after if before.get(name) != after[name]}
        if changes:
            self._record(request, obj, self.audit_verb(changes), {"changes": changes})

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        self.record_admin_save(request, form.instance)

    def delete_model(self, request, obj):
        self._record(request, obj, "deleted", {"values": self.audit_snapshot(obj)})
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        # The changelist's "delete selected" action runs outside a transaction.
        with transaction.atomic(using=router.db_for_write(self.model)):
            for obj in queryset:
                self._record(request, obj, "deleted", {"values": self.audit_snapshot(obj)})
            super().delete_queryset(request, queryset)


class AuditedModelAdmin(AuditedAdminMixin, admin.ModelAdmin):
    pass
