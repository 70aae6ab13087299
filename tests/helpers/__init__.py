"""Helpers shared by test modules: log-in in a browser, the API's error shape, PDF text,
the mail outbox.

Imported as ``from helpers.browser import log_in``: ``tests/`` is on ``sys.path`` (pytest
puts the folder of the root ``conftest.py`` there), as for ``from factories import ...``.
Builders of domain state stay in ``factories.py`` and the ``*_helpers.py`` modules.
"""
