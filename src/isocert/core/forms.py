from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join

from .errors import DomainError


class LongSelect(forms.Select):
    """A select of hundreds of options (a standard's clauses with ISO/IEC 27001's Annex A,
    a CB's auditors) drawn in Python. Django's ``Select`` draws every option through two
    template includes: two clause menus were half the time of the ISO/IEC 27001 conduct
    page (issue #19). The same markup as ``Select`` (attributes, ``selected``), without
    option groups."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        options = format_html_join("", "<option value=\"{}\"{}>{}</option>", (
            (option["value"], flatatt(option["attrs"]), option["label"])
            for _group, group_options, _index in widget["optgroups"]
            for option in group_options))
        return format_html("<select name=\"{}\"{}>{}</select>", widget["name"],
                           flatatt(widget["attrs"]), options)


def add_domain_error(form: forms.Form, exc: DomainError, field_map: dict | None = None) -> None:
    """Show a service's refusal on the form: per field where it names one."""
    field_map = field_map or {}
    placed = False
    for key, message in exc.fields.items():
        field = field_map.get(key, key)
        if field in form.fields:
            form.add_error(field, message)
            placed = True
    if not placed or not exc.fields:
        form.add_error(None, exc.message)
    elif exc.message and any(field_map.get(k, k) not in form.fields for k in exc.fields):
        form.add_error(None, exc.message + " " + " ".join(
            m for k, m in exc.fields.items() if field_map.get(k, k) not in form.fields))
