"""The directory's vocabulary (``NameWord``, kept by database triggers) and the word
corrections the typo-tolerant search makes with it. Runs on SQLite and PostgreSQL."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from registry_helpers import clear_public_state, make_certificate

from isocert.certification.names import name_key
from isocert.registry import directory
from isocert.registry.models import NameWord
from isocert.registry.vocabulary import VOCABULARY, Vocabulary


@pytest.fixture(autouse=True)
def _fresh_public_state():
    clear_public_state()
    yield
    clear_public_state()


def words() -> set[str]:
    return set(NameWord.objects.values_list("word", flat=True))


@pytest.mark.django_db
def test_a_new_certificate_adds_the_words_of_its_name():
    make_certificate("Nordlicht Énergie GmbH")
    make_certificate("Nordlicht Solar GmbH")

    assert words() == {"nordlicht", "energie", "gmbh", "solar"}


@pytest.mark.django_db
def test_a_renamed_certificate_adds_its_new_words():
    certificate = make_certificate("Quarzwerk Technik KG")
    certificate.organization_name = "Kobaltwerk Technik KG"
    certificate.name_key = name_key(certificate.organization_name)
    certificate.save()

    assert {"quarzwerk", "kobaltwerk", "technik", "kg"} <= words()


@pytest.mark.django_db
def test_quotes_and_backslashes_are_words_like_others():
    make_certificate('Müller "Präzision" \\ Söhne')

    assert words() == {"muller", '"prazision"', "\\", "sohne"}


@pytest.mark.django_db
def test_the_vocabulary_in_memory_fetches_only_new_words():
    make_certificate("Nordlicht Energie GmbH")
    vocabulary = Vocabulary().refreshed()
    assert vocabulary.words == {"nordlicht", "energie", "gmbh"}

    make_certificate("Sonnenlicht Solar GmbH")
    with CaptureQueriesContext(connection) as queries:
        vocabulary.refreshed()

    assert vocabulary.words == {"nordlicht", "energie", "gmbh", "sonnenlicht", "solar"}
    assert "WHERE id >" in queries.captured_queries[-1]["sql"]
    with CaptureQueriesContext(connection) as queries:
        vocabulary.refreshed()
    assert len(queries.captured_queries) == 1  # only the highest id: nothing new


@pytest.mark.django_db
@pytest.mark.parametrize(("typed", "expected"), [
    ("nordlihct", ["nordlicht"]),    # two letters swapped
    ("nordlicxt", ["nordlicht"]),    # one changed
    ("nordlict", ["nordlicht"]),     # one missing
    ("nordlicht", []),               # a word of a name: nothing to correct
    ("norrdlicht", ["nordlicht"]),   # one too many
    ("solr", ["solar"]),
    ("sol", []),                     # too short to guess at
    ("zyxwvut", []),
])
def test_corrections_are_the_words_one_edit_away(typed, expected):
    make_certificate("Nordlicht Energie GmbH")
    make_certificate("Sonnenlicht Solar GmbH")

    assert Vocabulary().refreshed().corrections(typed) == expected


@pytest.mark.django_db
def test_same_length_corrections_come_first():
    make_certificate("Werk Wert Wer Werkx")

    # Changed letter, then a letter less, then a letter more.
    assert Vocabulary().refreshed().corrections("werx") == ["werk", "wert", "wer",
                                                                   "werkx"]


@pytest.mark.django_db
def test_corrected_texts_combine_the_corrections_of_each_word():
    make_certificate("Nordlicht Energie GmbH")
    vocabulary = Vocabulary().refreshed()

    assert vocabulary.corrected_texts(["nordlict", "enrgie"]) == ["nordlicht energie"]
    assert vocabulary.corrected_texts(["nordlicht", "energie"]) == []
    assert vocabulary.corrected_texts(["licht"]) == []  # part of a word: searched as typed


@pytest.mark.django_db
def test_a_word_in_no_name_skips_the_search_as_typed():
    make_certificate("Nordlicht Energie GmbH")
    where, params = directory._filter_sql("", "", "")
    VOCABULARY.refreshed()

    with CaptureQueriesContext(connection) as typed_right:
        assert directory._ranked_ids("licht", where, params)[0]
    with CaptureQueriesContext(connection) as misspelt:
        found, capped = directory._ranked_ids("nordlict", where, params)

    assert found and not capped
    # The vocabulary's highest id, then one search — the corrected one, not the typed one.
    assert len(misspelt.captured_queries) == len(typed_right.captured_queries)
    assert not any("nordlict" in q["sql"] for q in misspelt.captured_queries)
