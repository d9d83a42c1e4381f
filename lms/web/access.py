"""Who may open a page: a signed-in user with one of the page's roles."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, request
from flask_login import current_user

from lms.extensions import login_manager
from lms.models import UserRole
from lms.models.accounts import STAFF_ROLES

F = TypeVar("F", bound=Callable[..., Any])

STAFF = STAFF_ROLES


def wants_json() -> bool:
    """Whether the client asked for JSON (our scripts do; a browser navigating does not)."""
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return request.path.endswith(".json") or best == "application/json"


def roles_required(*roles: UserRole) -> Callable[[F], F]:
    """Only signed-in users with one of `roles` pass: anonymous -> sign in, others -> 403."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                if wants_json():
                    abort(401)
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = roles  # type: ignore[attr-defined]  # read by the access tests
        return wrapped  # type: ignore[return-value]

    return decorator
