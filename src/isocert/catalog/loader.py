"""Load the catalog's data files into the database, idempotently.

Works with real or historical models (``get_model``), so a data migration and
the ``isocert load-catalog`` command share it. A standard is re-imported only
when its file's ``data_version`` is newer than the one loaded.
"""

import json
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


def _read(path: Path) -> dict:
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def _parent_number(number: str) -> str | None:
    return number.rsplit(".", 1)[0] if "." in number else None


def load_catalog(get_model) -> dict[str, int]:
    Country = get_model("catalog", "Country")
    Sector = get_model("catalog", "Sector")
    Standard = get_model("catalog", "Standard")
    Clause = get_model("catalog", "Clause")
    counts = {"countries": 0, "sectors": 0, "standards": 0, "clauses (re)imported": 0}

    for item in _read(DATA_DIR / "countries.json")["countries"]:
        Country.objects.update_or_create(code=item["code"], defaults={"name": item["name"]})
        counts["countries"] += 1
    for item in _read(DATA_DIR / "sectors.json")["sectors"]:
        Sector.objects.update_or_create(code=item["code"], defaults={"name": item["name"]})
        counts["sectors"] += 1

    for path in sorted((DATA_DIR / "standards").glob("*.json")):
        data = _read(path)
        standard, created = Standard.objects.get_or_create(
            code=data["code"], edition=data["edition"],
            defaults={"title": data["title"], "data_version": data["data_version"]},
        )
        counts["standards"] += 1
        if not created and standard.data_version >= data["data_version"] and standard.clauses.exists():
            continue
        standard.title = data["title"]
        standard.data_version = data["data_version"]
        standard.save()
        by_number = {c.number: c for c in Clause.objects.filter(standard=standard)}
        position = 0
        for group in data["groups"]:
            for item in group["items"]:
                position += 1
                number = item["number"]
                parent = by_number.get(_parent_number(number) or "")
                fields = {
                    "group": group["key"], "title": item["title"], "guidance": item["guidance"],
                    "parent": parent, "depth": number.count(".") - (1 if number.startswith("A.") else 0),
                    "position": position,
                }
                clause = by_number.get(number)
                if clause is None:
                    clause = Clause.objects.create(standard=standard, number=number, **fields)
                    by_number[number] = clause
                else:
                    for key, value in fields.items():
                        setattr(clause, key, value)
                    clause.save()
                counts["clauses (re)imported"] += 1
    return counts
