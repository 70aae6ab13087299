"""Admin inlines whose rows are accessible (issue #19).

Django's tabular inline gives each row's "Delete?" checkbox no label (its column heading
is no ``<label>``): axe ``label``, critical (WCAG 2.2 SC 1.3.1, 4.1.2). ``TabularInline``
names each one after its row ("Delete Auditor").
"""

from django.contrib import admin
from django.forms.models import BaseInlineFormSet


class LabelledDeleteFormSet(BaseInlineFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        delete = form.fields.get("DELETE")
        if delete is not None:
            name = str(form.instance) if form.instance.pk else "this row"
            delete.widget.attrs.setdefault("aria-label", f"Delete {name}")


class TabularInline(admin.TabularInline):
    formset = LabelledDeleteFormSet
