"""The domain exception hierarchy, mapped to HTTP once (app.py) as RFC 9457 problem details.

Every error body carries ``error`` (a code for programs), ``title`` and ``detail`` (for people) and
``status``; typed sync refusals are the same objects with their wire code.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    code = "bad-request"
    title = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        self.params = params or {}
        self.headers = headers or {}
        self.extra = extra

    def problem(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://outpost.invalid/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "error": self.code,
        }
        if self.params:
            body["params"] = self.params
        body.update(self.extra)
        return body


class ValidationFailed(DomainError):
    status = 400
    code = "invalid-value"
    title = "Invalid input"


class NotAuthenticated(DomainError):
    status = 401
    code = "not-authenticated"
    title = "Not logged in"


class PermissionDenied(DomainError):
    status = 403
    code = "forbidden"
    title = "Not allowed"


class OutOfScope(PermissionDenied):
    code = "out-of-scope"


class NotFound(DomainError):
    status = 404
    code = "not-found"
    title = "Not found"


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = "Conflict"


class TooLarge(DomainError):
    status = 413
    code = "payload-too-large"
    title = "Request too large"


class UpdateRequired(DomainError):
    status = 426
    code = "update-required"
    title = "App update required"


class RateLimited(DomainError):
    status = 429
    code = "rate-limited"
    title = "Too many attempts"


class Unavailable(DomainError):
    status = 503
    code = "busy"
    title = "Busy, try again"
