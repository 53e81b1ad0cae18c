"""Domain errors. Services raise these; the API turns each into an RFC 9457 problem.

Keeping them free of HTTP lets the CLI and tests use the services directly.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base class; `status` is the HTTP status the API answers with."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidInput(DomainError):
    """Well-formed input that breaks a rule (an unknown authority, a point outside England)."""

    status = 422
    title = "Invalid input"

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}", errors=[{"field": field, "message": rule}])
        self.field = field
        self.rule = rule


class NotFound(DomainError):
    status = 404
    title = "Not found"

    def __init__(self, record_type: str, record_id: object) -> None:
        super().__init__(f"no {record_type} with id {record_id}")


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class AuditUnavailable(DomainError):
    """A read could not be put on the audit trail, so its data is not released."""

    status = 503
    title = "Service unavailable"

    def __init__(self) -> None:
        super().__init__("the read could not be recorded in the audit trail; try again shortly")
