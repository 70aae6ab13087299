"""The portal's display formats per locale (``FORMAT_MODULE_PATH``, docs/configuration.md).

Django reads ``<locale>/formats.py`` for the active language and falls back to its own
locale formats for every name a module leaves out (the input formats among them).
"""
