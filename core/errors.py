"""The platform's error hierarchy; service/errors.py maps each to one JSON shape."""

from __future__ import annotations

from typing import Any


class PlatformError(Exception):
    """Base of every error a user can be shown; `status_code` is its HTTP status."""

    status_code = 400

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidInput(PlatformError):
    status_code = 422


class NotFound(PlatformError):
    status_code = 404


class NotAuthenticated(PlatformError):
    status_code = 401


class PermissionDenied(PlatformError):
    status_code = 403


class Conflict(PlatformError):
    status_code = 409


class ServiceUnavailable(PlatformError):
    status_code = 503
