"""The domain's refusals, in one module; `lms.web.errors` maps each kind to HTTP once.

Services raise these with an English message marked by `lms.i18n.N_` and its parameters; the
web layer translates the message into the user's language. No HTTP status lives here: a
refusal says what kind of thing went wrong (invalid input, not found, conflict, forbidden,
too many), and the web layer decides what that means for a response.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """A refusal with a message for a person (English, marked with N_) and its parameters."""

    kind: ClassVar[str] = "invalid"

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params


class Invalid(DomainError):
    """The input is malformed or breaks a rule; the message says what to change."""

    kind = "invalid"


class NotFound(DomainError):
    """The thing asked for does not exist (or is not the caller's to see)."""

    kind = "not_found"


class Conflict(DomainError):
    """The request contradicts the current state (already done, in progress, stale)."""

    kind = "conflict"


class Forbidden(DomainError):
    """The caller may not do this."""

    kind = "forbidden"


class TooMany(DomainError):
    """A rate limit or quota was reached; try again later."""

    kind = "too_many"


class TooLarge(DomainError):
    """The input is larger than accepted."""

    kind = "too_large"


class Unavailable(DomainError):
    """A service we depend on (an organisation's sign-in provider) did not answer; try later."""

    kind = "unavailable"
