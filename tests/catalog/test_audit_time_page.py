"""The public page "Estimate your audit days" (``/audit-time/``)."""

import re
from html import unescape

import pytest
from django.urls import reverse

from isocert.catalog.models import EnmsDayTableRow

URL = reverse("audit_time_estimate")


def text_of(response) -> str:
    """The page as a reader sees it: tags dropped, whitespace collapsed."""
    html = response.content.decode()
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def facts(response) -> dict[str, str]:
    html = response.content.decode()
    pairs = re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", html, re.S)
    return {dt.strip(): " ".join(re.sub(r"<[^>]+>", "", dd).split()) for dt, dd in pairs}


def test_the_empty_form_needs_no_log_in(client, db):
    response = client.get(URL)

    assert response.status_code == 200
    page = text_of(response)
    assert "Estimate your audit days" in page
    assert "This is an estimate." in page
    assert "fixes your audit time when it reviews your application" in page
    assert "Your estimate" not in page
    assert 'class="errorlist' not in response.content.decode()
    html = response.content.decode()
    for name in ("iso9001", "iso9001_personnel", "iso14001_complexity", "iso45001_complexity",
                 "iso27001_personnel", "iso50001_energy_tj", "iso50001_energy_types",
                 "iso50001_seus", "adjustment1_reason", "adjustment3_percent",
                 "integration_reduction_percent", "sites", "sampling_allowed"):
        assert f'name="{name}"' in html, name
        assert f'<label for="id_{name}"' in html, name
    assert 'name="adjustment4_reason"' not in html
    assert 'method="get"' in html


def test_the_page_is_linked_from_the_landing_page_and_the_menu(client, db):
    landing = client.get(reverse("landing")).content.decode()

    assert landing.count(f'href="{URL}"') == 2


def test_iso_9001_for_30_persons(client, db):
    response = client.get(URL, {"iso9001": "on", "iso9001_personnel": "30"})

    assert response.status_code == 200
    shown = facts(response)
    assert shown["Initial audit (stage 1 + stage 2)"] == "4 days"
    assert shown["Stage 1"] == "1.5 days"
    assert shown["Stage 2"] == "2.5 days"
    assert shown["Surveillance (each year)"] == "1.5 days"
    assert shown["Recertification (every three years)"] == "2.5 days"
    assert shown["Minimum on site (initial audit)"] == "3.5 days"  # 3.2 rounded up
    page = text_of(response)
    assert "Your estimate" in page
    assert "ISO 9001 — 4 4" in page  # the table row: no complexity, table days, adjusted days
    assert "fixes your audit time when it reviews your application" in page
    html = response.content.decode()
    steps = re.search(r'<ol class="explanation">(.*?)</ol>', html, re.S).group(1)
    items = [unescape(i) for i in re.findall(r"<li>(.*?)</li>", steps, re.S)]
    assert items[0] == ("ISO 9001: 30 persons fall in the 26-45 band of IAF MD 5:2019 Table "
                        "QMS 1: 4 days.")
    assert any(i.startswith("Stage 1 = 1/3 of 4 days") for i in items)
    # The answers stay in the form, so they can be changed.
    assert 'name="iso9001_personnel" value="30"' in html


def test_everything_at_once(client, db):
    response = client.get(URL, {
        "iso9001": "on", "iso9001_personnel": "20",
        "iso14001": "on", "iso14001_personnel": "120", "iso14001_complexity": "medium",
        "iso45001_personnel": "999",  # not ticked: left out
        "adjustment1_reason": "mature system", "adjustment1_percent": "-10",
        "adjustment2_reason": "", "adjustment2_percent": "",
        "integration_reduction_percent": "20", "sites": "100", "sampling_allowed": "on",
    })

    shown = facts(response)
    assert shown["Net adjustment"] == "-10 %"
    assert shown["Integration reduction"] == "20 %"
    # (3 + 8) x 0.9 = 9.9, x 0.8 = 7.92 -> 8
    assert shown["Initial audit (stage 1 + stage 2)"] == "8 days"
    assert shown["Sites to visit"] == ("initial audit 10, surveillance 6, recertification 8 — "
                                       "plus the central function every time")
    page = text_of(response)
    assert "ISO 14001 Medium 8 7.2" in page
    assert "ISO 45001" not in page.split("Your estimate")[1].split("Change your answers")[0]
    assert "-10 % mature system" in page


def test_iso_50001_without_the_table_says_so_and_invents_nothing(client, db):
    response = client.get(URL, {"iso50001": "on", "iso50001_personnel": "24",
                                "iso50001_energy_tj": "310", "iso50001_energy_types": "3",
                                "iso50001_seus": "5"})

    page = text_of(response)
    assert "ISO 50001 audit-day table (ISO 50003) not configured" in page
    assert "ISO 50001 Medium (C = 1.25) not configured —" in page
    assert "No audit days can be given until the missing table is configured." in page
    assert "Initial audit" not in page


def test_iso_50001_with_the_cbs_table(client, db):
    EnmsDayTableRow.objects.create(personnel_min=1, personnel_max=None, high=4, medium=3, low=2)

    response = client.get(URL, {"iso50001": "on", "iso50001_personnel": "24",
                                "iso50001_energy_tj": "310", "iso50001_energy_types": "3",
                                "iso50001_seus": "5"})

    assert facts(response)["Initial audit (stage 1 + stage 2)"] == "3 days"
    assert "not configured" not in text_of(response)


def field_errors(response, name) -> list[str]:
    html = response.content.decode()
    match = re.search(rf'<ul class="errorlist" id="id_{name}_error"[^>]*>(.*?)</ul>', html, re.S)
    return [unescape(e) for e in re.findall(r"<li>(.*?)</li>", match.group(1))] if match else []


@pytest.mark.parametrize(("params", "name", "message"), [
    ({"iso14001": "on", "iso14001_personnel": "50"}, "iso14001_complexity",
     "Is required for ISO 14001 (high|medium|low|limited)"),
    ({"iso9001": "on"}, "iso9001_personnel", "Is required"),
    ({"iso9001": "on", "iso9001_personnel": "0.5"}, "iso9001_personnel", None),
    ({"iso9001": "on", "iso9001_personnel": "many"}, "iso9001_personnel", None),
    ({"iso9001": "on", "iso9001_personnel": "10", "iso50001": "on",
      "iso50001_personnel": "10", "iso50001_energy_tj": "5", "iso50001_energy_types": "1"},
     "iso50001_seus", "Is required"),
    ({"iso9001": "on", "iso9001_personnel": "10", "integration_reduction_percent": "10"},
     "integration_reduction_percent", "Applies only to two or more standards (IAF MD 11)"),
    ({"iso9001": "on", "iso9001_personnel": "10", "integration_reduction_percent": "25"},
     "integration_reduction_percent", None),
    ({"iso9001": "on", "iso9001_personnel": "10", "adjustment2_percent": "-5"},
     "adjustment2_reason", "Is required: say why the time changes"),
    ({"iso9001": "on", "iso9001_personnel": "10", "adjustment3_reason": "remote"},
     "adjustment3_percent", "Is required"),
    ({"iso9001": "on", "iso9001_personnel": "10", "sampling_allowed": "on"}, "sites",
     "Give the number of sites, or untick sampling."),
    ({"iso9001": "on", "iso9001_personnel": "10", "sites": "-1"}, "sites", None),
])
def test_a_bad_answer_is_shown_on_its_field_and_no_result(client, db, params, name, message):
    response = client.get(URL, params)

    assert response.status_code == 200
    errors = field_errors(response, name)
    assert errors, response.content.decode()
    if message:
        assert errors == [message]
    page = text_of(response)
    assert "There is a problem" in page
    assert "Your estimate" not in page


def test_the_second_ticked_standard_gets_its_own_error(client, db):
    """The engine numbers the ticked standards; the error lands on the right block."""
    response = client.get(URL, {"iso9001": "on", "iso9001_personnel": "10",
                                "iso45001": "on", "iso45001_personnel": "10"})

    assert field_errors(response, "iso45001_complexity") == [
        "Is required for ISO 45001 (high|medium|low)"]
    assert field_errors(response, "iso9001_personnel") == []


def test_nothing_ticked_asks_for_a_standard(client, db):
    response = client.get(URL, {"iso9001_personnel": "10"})

    page = text_of(response)
    assert "Tick at least one standard and give its effective personnel." in page
    assert "Your estimate" not in page
