"""Readiness scores: (conforms × 1 + partial × 0.5) ÷ rows assessed as applicable."""

from decimal import Decimal

from readiness_helpers import answer

from isocert.readiness.selectors import assessment_scores


def _clause(scores, key):
    return next(c for c in scores["clauses"] if c["key"] == key)


def test_scores_per_main_clause_and_overall(gap9001, alice):
    # Clause 4 has five rows: 4, 4.1, 4.2, 4.3, 4.4.
    answer(gap9001, "4", alice, "conforms")
    answer(gap9001, "4.1", alice, "conforms")
    answer(gap9001, "4.2", alice, "partial")
    answer(gap9001, "4.3", alice, "nonconforming")
    answer(gap9001, "4.4", alice, "not_applicable", justification="Test only.")
    # Clause 8: one row that partially conforms, one not applicable.
    answer(gap9001, "8.1", alice, "partial")
    answer(gap9001, "8.3", alice, "not_applicable")

    scores = assessment_scores(gap9001)

    four = _clause(scores, "4")
    assert four["score"] == Decimal("62.5")  # (1 + 1 + 0.5 + 0) / 4
    assert (four["assessed"], four["rows"], four["counts"]["not_applicable"]) == (5, 5, 1)
    assert _clause(scores, "8")["score"] == Decimal("50.0")  # N/A and not-assessed left out
    assert _clause(scores, "5")["score"] is None  # nothing assessed yet
    assert [c["key"] for c in scores["clauses"]] == ["4", "5", "6", "7", "8", "9", "10"]
    assert _clause(scores, "7")["title"] == "Support"
    # Overall: (1 + 1 + 0.5 + 0 + 0.5) / 5 applicable rows.
    assert scores["overall"]["score"] == Decimal("60.0")
    assert scores["overall"]["assessed"] == 7 and scores["overall"]["rows"] == 75
    assert "not applicable" in scores["rule"]


def test_annex_a_themes_get_their_own_scores_and_count_overall(gap27001, alice):
    answer(gap27001, "4.1", alice, "conforms")
    answer(gap27001, "A.5.1", alice, "nonconforming", soa_applicable=True,
           soa_justification="Needed.")

    scores = assessment_scores(gap27001)

    assert [c["key"] for c in scores["clauses"]][-4:] == ["A.5", "A.6", "A.7", "A.8"]
    assert _clause(scores, "A.5")["score"] == Decimal("0.0")
    assert _clause(scores, "A.5")["annex"] is True
    assert scores["overall"]["score"] == Decimal("50.0")


def test_the_assessment_page_shows_the_rule_the_chart_and_the_table(gap9001, alice, api_client):
    answer(gap9001, "4.1", alice, "partial")

    page = api_client(alice).get(f"/gap-analysis/{gap9001.pk}/")

    html = page.content.decode()
    assert page.status_code == 200
    assert "vendor/chartjs/chart.umd.min.js" in html
    assert 'id="readiness-chart-data"' in html and '"scores": [50.0, null' in html
    assert "rows assessed as applicable" in html
    assert 'data-testid="overall-score"><strong>50.0 %' in html
