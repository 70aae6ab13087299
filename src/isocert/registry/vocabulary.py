"""The vocabulary of certified organizations' names, in this process's memory: what the
directory corrects typos against (``directory``).

``NameWord`` holds every word of every name, kept by database triggers (migration
``certification.0003_name_words``); a bulk import adds its words in one statement.
A misspelt word is corrected to the known words one edit away (a letter dropped, added,
changed, or two swapped — Norvig's corrector).
"""

import itertools
import threading

from django.db import connection

# Spellings tried per misspelt word.
CORRECTIONS_PER_WORD = 3
# SQLite: a query word stands for at most this many words of names containing it.
EXPANSIONS = 50


class Vocabulary:
    """The words of all names (``NameWord``), in this process's memory.

    ``refreshed()`` asks the database for the highest word id (one index lookup) and
    fetches only the words added since; a lower highest id than known (a rolled-back test
    database) reloads everything.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        self.words: set[str] = set()
        self.text = "\n"           # every word between newlines: substring tests in C
        self.letters: str = ""
        self.last_id = 0

    def refreshed(self) -> "Vocabulary":
        with connection.cursor() as cursor:
            cursor.execute("SELECT max(id) FROM certification_nameword")
            top = cursor.fetchone()[0] or 0
            if top == self.last_id:
                return self
            with self.lock:
                if top < self.last_id:
                    self.clear()
                cursor.execute("SELECT id, word FROM certification_nameword WHERE id > %s",
                               [self.last_id])
                rows = cursor.fetchall()
                new = [word for _, word in rows if word not in self.words]
                self.words.update(new)
                self.text += "\n".join(new) + "\n" if new else ""
                self.letters = "".join(sorted(set(self.letters).union(*new)))
                self.last_id = max([top, *(i for i, _ in rows)])
        return self

    def containing(self, word: str) -> list[str] | None:
        """The words that contain ``word``; ``None`` when more than ``EXPANSIONS`` do."""
        text, found, start = self.text, [], 0
        while (at := text.find(word, start)) != -1:
            begin, end = text.rfind("\n", 0, at) + 1, text.find("\n", at)
            found.append(text[begin:end])
            if len(found) > EXPANSIONS:
                return None
            start = end
        return found

    def occurs(self, word: str) -> bool:
        """Whether ``word`` is part of some name's word (else no name can contain it)."""
        return word in self.text

    def corrections(self, word: str) -> list[str]:
        """Words one edit away from ``word`` (deleted, swapped, changed or added letter),
        best first: same length, then shorter, then longer; ``[]`` for a known word, a
        short one (< 4 letters) or one that is not all letters."""
        if word in self.words or len(word) < 4 or not word.isalpha():
            return []
        splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
        swapped = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
        changed = {a + c + b[1:] for a, b in splits if b for c in self.letters}
        deleted = {a + b[1:] for a, b in splits if b}
        added = {a + c + b for a, b in splits for c in self.letters}
        found = []
        for group in (swapped, changed, deleted, added):
            found.extend(sorted((group & self.words) - set(found)))
        return found

    def corrected_texts(self, words: list[str]) -> list[str]:
        """The query with misspelt words corrected: every combination of each word's
        first ``CORRECTIONS_PER_WORD`` corrections (words without any stay as typed)."""
        options = [self.corrections(w)[:CORRECTIONS_PER_WORD] or [w] for w in words]
        texts = [" ".join(combination) for combination in itertools.product(*options)]
        typed = " ".join(words)
        return [t for t in texts if t != typed]


VOCABULARY = Vocabulary()
