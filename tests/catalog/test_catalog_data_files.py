"""Structural checks for the shipped catalog data files (pure Python, no Django)."""

import json
import re
from pathlib import Path

import pytest

DATA_DIR = Path(__file__).resolve().parents[2] / "src/isocert/catalog/data"
STANDARDS_DIR = DATA_DIR / "standards"

STANDARD_FILES = {
    "iso-9001-2015.json": ("ISO 9001", "2015"),
    "iso-14001-2015.json": ("ISO 14001", "2015"),
    "iso-45001-2018.json": ("ISO 45001", "2018"),
    "iso-iec-27001-2022.json": ("ISO/IEC 27001", "2022"),
    "iso-50001-2018.json": ("ISO 50001", "2018"),
}

NUMBER_RE = re.compile(r"^(?:A\.)?\d+(?:\.\d+)*$")

# fmt: off
ISO_50001_NUMBERS = [
    "4", "4.1", "4.2", "4.3", "4.4",
    "5", "5.1", "5.2", "5.3",
    "6", "6.1", "6.2", "6.3", "6.4", "6.5", "6.6",
    "7", "7.1", "7.2", "7.3", "7.4", "7.5", "7.5.1", "7.5.2", "7.5.3",
    "8", "8.1", "8.2", "8.3",
    "9", "9.1", "9.1.1", "9.1.2", "9.2", "9.3",
    "10", "10.1", "10.2",
]
# fmt: on


def load(path):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def all_items(doc):
    return [item for group in doc["groups"] for item in group["items"]]


def parent_of(number):
    parts = number.split(".")
    if number.startswith("A."):
        # "A.5" is a top-level theme; "A.5.1" -> "A.5"
        return None if len(parts) <= 2 else ".".join(parts[:-1])
    return None if len(parts) == 1 else ".".join(parts[:-1])


def test_all_standard_files_present():
    present = {p.name for p in STANDARDS_DIR.glob("*.json")}
    assert set(STANDARD_FILES) <= present


@pytest.mark.parametrize("filename", sorted(STANDARD_FILES))
def test_standard_file_structure(filename):
    doc = load(STANDARDS_DIR / filename)
    code, edition = STANDARD_FILES[filename]

    assert isinstance(doc["data_version"], int) and doc["data_version"] >= 1
    assert doc["code"] == code
    assert doc["edition"] == edition
    assert isinstance(doc["title"], str) and doc["title"].strip()
    assert isinstance(doc["groups"], list) and doc["groups"]
    assert doc["groups"][0]["key"] == "clauses"

    group_keys = [g["key"] for g in doc["groups"]]
    assert len(group_keys) == len(set(group_keys))
    for group in doc["groups"]:
        assert set(group) == {"key", "title", "items"}
        assert group["title"].strip()
        assert group["items"]

    items = all_items(doc)
    numbers = [item["number"] for item in items]
    assert len(numbers) == len(set(numbers)), "duplicate numbers"

    seen = set()
    for item in items:
        assert set(item) == {"number", "title", "guidance"}, item
        number = item["number"]
        assert isinstance(number, str) and NUMBER_RE.match(number), number
        assert isinstance(item["title"], str) and item["title"].strip(), number
        guidance = item["guidance"]
        assert isinstance(guidance, str) and guidance.strip(), number
        assert guidance.rstrip().endswith("?"), f"{number}: guidance must be a question"
        parent = parent_of(number)
        if parent is not None:
            assert parent in seen, f"{number}: parent {parent} missing or after child"
        seen.add(number)

    # Guidance questions are written per clause, not copied around.
    guidances = [item["guidance"] for item in items]
    assert len(guidances) == len(set(guidances)), "duplicate guidance text"

    clause_numbers = {item["number"] for item in doc["groups"][0]["items"]}
    assert {str(n) for n in range(4, 11)} <= clause_numbers


def test_iso_27001_annex_a():
    doc = load(STANDARDS_DIR / "iso-iec-27001-2022.json")
    groups = {g["key"]: g for g in doc["groups"]}
    assert set(groups) == {"clauses", "annex_a"}
    items = groups["annex_a"]["items"]
    themes = [i["number"] for i in items if len(i["number"].split(".")) == 2]
    controls = [i["number"] for i in items if len(i["number"].split(".")) == 3]
    assert themes == ["A.5", "A.6", "A.7", "A.8"]
    assert len(controls) == 93
    assert len(items) == 97
    expected = {"A.5": 37, "A.6": 8, "A.7": 14, "A.8": 34}
    for theme, count in expected.items():
        got = [c for c in controls if c.startswith(theme + ".")]
        assert got == [f"{theme}.{n}" for n in range(1, count + 1)], theme
    titles = {i["number"]: i["title"] for i in items}
    assert titles["A.5.1"] == "Policies for information security"
    assert titles["A.8.34"] == "Protection of information systems during audit testing"


def test_iso_27001_clauses():
    doc = load(STANDARDS_DIR / "iso-iec-27001-2022.json")
    numbers = {i["number"] for i in doc["groups"][0]["items"]}
    for n in ["6.1.1", "6.1.2", "6.1.3", "6.3", "7.5.3", "8.3", "9.2.2", "9.3.3", "10.2"]:
        assert n in numbers


def test_iso_50001_exact_clauses():
    doc = load(STANDARDS_DIR / "iso-50001-2018.json")
    assert [g["key"] for g in doc["groups"]] == ["clauses"]
    assert [i["number"] for i in all_items(doc)] == ISO_50001_NUMBERS


def test_iso_9001_key_subclauses():
    doc = load(STANDARDS_DIR / "iso-9001-2015.json")
    numbers = {i["number"] for i in all_items(doc)}
    expected = (
        [f"8.{n}" for n in range(1, 8)]
        + [f"8.2.{n}" for n in range(1, 5)]
        + [f"8.3.{n}" for n in range(1, 7)]
        + [f"8.4.{n}" for n in range(1, 4)]
        + [f"8.5.{n}" for n in range(1, 7)]
        + [f"7.1.{n}" for n in range(1, 7)]
        + ["9.1.1", "9.1.2", "9.1.3", "9.3.1", "9.3.2", "9.3.3", "10.1", "10.2", "10.3"]
    )
    assert set(expected) <= numbers


def test_iso_14001_and_45001_key_subclauses():
    n14 = {i["number"] for i in all_items(load(STANDARDS_DIR / "iso-14001-2015.json"))}
    assert {"6.1.1", "6.1.2", "6.1.3", "6.1.4", "9.1.1", "9.1.2", "9.2.1", "9.2.2", "9.3"} <= n14
    n45 = {i["number"] for i in all_items(load(STANDARDS_DIR / "iso-45001-2018.json"))}
    expected_45 = (
        "5.4 6.1.1 6.1.2 6.1.2.1 6.1.2.2 6.1.2.3 6.1.3 6.1.4 8.1.1 8.1.2 8.1.3 8.1.4 8.2 10.2"
    )
    assert set(expected_45.split()) <= n45


def test_sectors():
    doc = load(DATA_DIR / "sectors.json")
    assert isinstance(doc["data_version"], int) and doc["data_version"] >= 1
    sectors = doc["sectors"]
    assert [s["code"] for s in sectors] == list(range(1, 40))
    for s in sectors:
        assert set(s) == {"code", "name"}
        assert isinstance(s["name"], str) and s["name"].strip()
    names = {s["code"]: s["name"] for s in sectors}
    assert names[1] == "Agriculture, forestry and fishing"
    assert names[28] == "Construction"
    assert names[33] == "Information technology"
    assert names[39] == "Other social services"


def test_countries():
    doc = load(DATA_DIR / "countries.json")
    assert isinstance(doc["data_version"], int) and doc["data_version"] >= 1
    countries = doc["countries"]
    assert len(countries) >= 249
    codes = [c["code"] for c in countries]
    assert len(codes) == len(set(codes))
    for c in countries:
        assert set(c) == {"code", "name"}
        assert re.fullmatch(r"[A-Z]{2}", c["code"]), c
        assert isinstance(c["name"], str) and c["name"].strip()
    assert {"DE", "US", "GB", "FR"} <= set(codes)
