"""The JSON API for other systems, under /api/v1, with bearer-token auth (no cookies, no CSRF)."""

from lms.api.v1 import bp

__all__ = ["bp"]
