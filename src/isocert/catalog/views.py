"""Public catalog pages: the audit-day estimator."""

from django.shortcuts import render

from isocert.core.errors import InvalidInput

from .forms import AuditTimeEstimateForm
from .selectors import estimate_audit_time


def audit_time_estimate(request):
    """The estimator is a GET form, so a result is a link that can be shared."""
    form = AuditTimeEstimateForm(request.GET or None)
    result = None
    if form.is_valid():
        try:
            result = estimate_audit_time(form.engine_input())
        except InvalidInput as exc:
            form.add_engine_errors(exc.fields)
    return render(request, "catalog/audit_time_estimate.html",
                  {"form": form, "result": _for_display(result) if result else None})


def _for_display(value):
    """The engine's floats as people write them: 4, 1.5, 7.33 (not 4.0 or 7.333333)."""
    if isinstance(value, dict):
        return {key: _for_display(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_for_display(item) for item in value]
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return value
