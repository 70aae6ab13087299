"""Domain errors: what a service refuses, said so a person understands it.

Views turn them into form errors, the API into ``{"error": {...}}`` with the
HTTP status given here.
"""


class DomainError(Exception):
    """A rule of the domain refused the operation; nothing was changed."""

    code = "domain_error"
    status = 400

    def __init__(self, message: str, *, fields: dict[str, str] | None = None, code: str = ""):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code:
            self.code = code


class InvalidInput(DomainError):
    """The input itself is wrong; ``fields`` names the offending fields."""

    code = "invalid"
    status = 422


class TransitionNotAllowed(DomainError):
    """The object is not in a state from which this action is possible."""

    code = "invalid_transition"
    status = 409


class NotPermitted(DomainError):
    """The actor may see the object but not do this to it."""

    code = "forbidden"
    status = 403


class Conflict(DomainError):
    """Someone else changed the object first (stale version, duplicate)."""

    code = "conflict"
    status = 409
