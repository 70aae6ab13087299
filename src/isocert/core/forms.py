from django import forms

from .errors import DomainError


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
