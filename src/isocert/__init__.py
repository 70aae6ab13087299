"""isocert — online portal of an ISO management-system certification body."""

# The one place the version is written: pyproject.toml reads it, `isocert --version` prints
# it, error reports carry it. CHANGELOG.md says what each version brought.
__version__ = "0.2.0"
