"""The name key: the form certified organizations' names are searched and sorted in.

Stored in ``Certificate.name_key`` by the issuing service and the registry's importer;
the directory searches its words.
"""

import re
import unicodedata

_SPACE = re.compile(r"\s+")


def name_key(text: str) -> str:
    """Lower-case, accent-free, single-spaced: the form names are searched and sorted in.

    ``"Nordlicht Énergie  GmbH"`` → ``"nordlicht energie gmbh"``; ``ß`` becomes ``ss``.
    The importer and the issuing service store it in ``Certificate.name_key``.
    """
    text = text or ""
    if text.isascii():  # most names; the same result, several times faster (bulk imports)
        return " ".join(text.lower().split())
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACE.sub(" ", stripped.casefold()).strip()
