"""Domain errors raised by services and mapped to responses in one place (views flash them, the API shapes them)."""

from __future__ import annotations


class DomainError(Exception):
    """A rule said no. ``message`` is shown to the user (translated), ``field`` names the input at fault."""

    status = 400

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


class ValidationError(DomainError):
    status = 400


class NotFound(DomainError):
    """Also used for records of another tenant: they do not exist from here."""

    status = 404


class Conflict(DomainError):
    status = 409
