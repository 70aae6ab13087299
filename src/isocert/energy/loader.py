"""Loading the energy-carrier data file (used by the data migration and by tests)."""

import json
from decimal import Decimal
from pathlib import Path

CARRIERS_FILE = Path(__file__).resolve().parent / "data" / "carriers.json"


def load_carriers(get_model) -> int:
    """Create or update every carrier and unit of the data file; returns the carriers loaded.

    ``get_model`` is ``apps.get_model`` (historical models in a migration). Units a CB
    added in the admin are left alone; the file's factors win for the units it names.
    """
    carrier_model = get_model("energy", "EnergyCarrier")
    unit_model = get_model("energy", "CarrierUnit")
    data = json.loads(CARRIERS_FILE.read_text(encoding="utf-8"))
    for position, entry in enumerate(data["carriers"]):
        carrier, _ = carrier_model.objects.update_or_create(
            code=entry["code"], defaults={"name": entry["name"], "position": position})
        for unit, factor in entry["units"].items():
            unit_model.objects.update_or_create(carrier=carrier, unit=unit,
                                                defaults={"kwh_per_unit": Decimal(factor)})
    return len(data["carriers"])
