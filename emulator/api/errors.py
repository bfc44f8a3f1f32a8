"""Errors the emulator reports, free of gRPC so the state layer can raise them.

The service layer turns each into a gRPC status with the same code name and, for
InvalidArgument, a ``google.rpc.BadRequest`` detail listing the field violations.
"""

from __future__ import annotations

SHOWN_LIMIT = 64


def shown(value: object, limit: int = SHOWN_LIMIT) -> str:
    """A caller's value for an error message, cut to ``limit`` characters: status messages
    travel in metadata, and an id echoed whole could exceed its limit (RESOURCE_EXHAUSTED)."""
    text = str(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}... ({len(text)} characters)"


def found(record, kind: str, key: object):
    """``record``, or NOT_FOUND naming what was looked for (``Registry crp... not found``)."""
    if record is None:
        raise NotFound(f"{kind} {shown(key)} not found")
    return record


class ApiError(Exception):
    """An error with a gRPC status code name (``code``) and a client-facing message."""

    code = "UNKNOWN"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class WithCode(ApiError):
    """An error whose code is given when it is raised (a fault rule's, a shutdown stage's)."""

    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(message)


class OperationFailed(WithCode):
    """Raised by a pending operation's action when it is done: the operation finishes with this error
    (and whatever the action did stays: a migration's failed parts)."""


class InvalidArgument(ApiError):
    """Bad input. ``violations`` holds ``(field, description)`` pairs."""

    code = "INVALID_ARGUMENT"

    def __init__(self, violations: list[tuple[str, str]]):
        self.violations = list(violations)
        super().__init__("; ".join(f"{field}: {text}" for field, text in self.violations))

    @classmethod
    def field(cls, field: str, description: str) -> InvalidArgument:
        return cls([(field, description)])


class NotFound(ApiError):
    code = "NOT_FOUND"


class Unauthenticated(ApiError):
    code = "UNAUTHENTICATED"


class PermissionDenied(ApiError):
    code = "PERMISSION_DENIED"


class FailedPrecondition(ApiError):
    """The request is well formed but the resource's state forbids it (e.g. a registry not empty)."""

    code = "FAILED_PRECONDITION"


class AlreadyExists(ApiError):
    code = "ALREADY_EXISTS"


class ResourceExhausted(ApiError):
    """A quota or limit reached (Yandex Cloud's quotas answer so: "Quota limit ... exceeded")."""

    code = "RESOURCE_EXHAUSTED"
