"""The EnPI chart: each unit on its own y axis (kWh per unit apart from actual ÷ expected)."""

import json
import re
from types import SimpleNamespace

from isocert.energy import charts, selectors


def _trend(name, unit, values):
    return SimpleNamespace(enpi=SimpleNamespace(name=name), unit=unit,
                           months=["2025-01", "2025-02"], values=values)


def test_ratio_and_regression_enpis_are_drawn_on_separate_axes():
    data = charts.enpi_data([_trend("kWh per tonne", "kWh/t", [412.5, 398.25]),
                             _trend("Index", "actual ÷ expected", [0.97, 1.01]),
                             _trend("kWh per tonne, line 2", "kWh/t", [388.0, None])])

    assert [s["axis"] for s in data["series"]] == ["y0", "y1", "y0"]
    assert data["axes"] == [{"id": "y0", "title": "kWh/t", "position": "left"},
                            {"id": "y1", "title": "actual ÷ expected", "position": "right"}]
    assert data["series"][2]["values"] == [388.0, None]


def test_the_enpi_page_gives_the_chart_its_axes(nordlicht, story, alice, api_client):
    page = api_client(alice).get(f"/organizations/{nordlicht.pk}/energy/enpis/").content.decode()
    data = json.loads(re.search(r'<script id="enpi-data" type="application/json">(.*?)</script>',
                                page, re.S).group(1))

    units = {s["label"]: next(a["title"] for a in data["axes"] if a["id"] == s["axis"])
             for s in data["series"]}
    trends = {t.enpi.name: t.unit for t in map(selectors.enpi_trend,
                                               selectors.enpis_of(nordlicht))}
    assert sorted(units.values()) == ["actual ÷ expected", "kWh/t"]
    assert all(units[f"{name} ({unit})"] == unit for name, unit in trends.items())
    assert len({s["axis"] for s in data["series"]}) == 2
