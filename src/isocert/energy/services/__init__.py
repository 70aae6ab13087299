"""Every write on energy data: meters, uses, variables, imports, baselines, EnPIs.

Owners and editors of the organization write; viewers and CB staff only read
(``ensure_can_edit`` refuses them with 403). Each change writes an audit event
``energy.<object>.<verb>`` in the same transaction. The services take typed keyword
arguments: the forms and the API's schemas parse what a person or a client sent.
"""

from .adjustments import create_adjustment, delete_adjustment, update_adjustment
from .baselines import (
    add_reporting_period,
    create_baseline,
    create_enpi,
    delete_baseline,
    delete_enpi,
    delete_reporting_period,
)
from .imports import build_mapping, import_energy_data, undo_import
from .prefill import prefill_application_inputs
from .setup import (
    create_energy_use,
    create_meter,
    create_variable,
    delete_energy_use,
    delete_meter,
    delete_variable,
    update_energy_use,
    update_meter,
    update_variable,
)

__all__ = [
    "add_reporting_period", "build_mapping", "create_adjustment", "delete_adjustment",
    "update_adjustment", "create_baseline", "create_energy_use",
    "create_enpi", "create_meter", "create_variable", "delete_baseline", "delete_energy_use",
    "delete_enpi", "delete_meter", "delete_reporting_period", "delete_variable",
    "import_energy_data", "prefill_application_inputs", "undo_import", "update_energy_use",
    "update_meter", "update_variable",
]
