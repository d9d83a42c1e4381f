"""Accounts: creating users, signing in with throttling, changing passwords."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from lms.errors import Conflict, Invalid
from lms.i18n import N_
from lms.models import LoginAttempt, User, UserRole, utcnow

MIN_PASSWORD_LENGTH = 10
# Checked against when the e-mail is unknown, so both paths cost one scrypt (no timing oracle).
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


def hash_password(password: str) -> str:
    """A scrypt hash of `password` (werkzeug's format, salted)."""
    return generate_password_hash(password, method="scrypt")


def generate_password() -> str:
    """A random password that is easy to copy (about 96 bits)."""
    return secrets.token_urlsafe(12)


def normalise_email(email: str) -> str:
    """The canonical form we store and look up."""
    return email.strip().lower()


def create_user(
    session: Session,
    email: str,
    role: UserRole | str,
    password: str | None = None,
    display_name: str = "",
) -> tuple[User, str]:
    """Create a user; returns it and its password (generated when not given)."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise Invalid(N_("%(email)s is not an e-mail address."), email=email)
    try:
        role = UserRole(role)
    except ValueError:
        roles = ", ".join(r.value for r in UserRole)
        raise Invalid(
            N_("Unknown role %(role)s: use one of %(roles)s."), role=role, roles=roles
        ) from None
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(N_("A user with e-mail %(email)s already exists."), email=email)
    password = password if password is not None else generate_password()
    _check_password_strength(password)
    user = User(
        email=email, role=role, password_hash=hash_password(password), display_name=display_name
    )
    session.add(user)
    session.commit()
    return user, password


def set_password(session: Session, user: User, password: str) -> None:
    """Replace a user's password (no check of the old one: for admins and the demo)."""
    _check_password_strength(password)
    user.password_hash = hash_password(password)
    session.commit()


def change_password(session: Session, user_id: int, current: str, new: str) -> None:
    """Change a user's own password after checking the current one."""
    user = session.get(User, user_id)
    if user is None or not check_password_hash(user.password_hash, current):
        raise Invalid(N_("The current password is wrong."))
    set_password(session, user, new)


def _check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(N_("Passwords need at least %(n)s characters."), n=MIN_PASSWORD_LENGTH)


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt: the user, or why not (and for how long if throttled)."""

    user: User | None
    throttled: bool = False
    retry_after_seconds: int = 0


def authenticate(
    session: Session,
    email: str,
    password: str,
    remote_addr: str,
    max_failures: int = 5,
    window_seconds: int = 900,
) -> SignIn:
    """Check credentials, refusing without checking after too many recent failures."""
    email = normalise_email(email)
    since = utcnow() - timedelta(seconds=window_seconds)
    failures = select(func.count(), func.min(LoginAttempt.at)).where(
        LoginAttempt.succeeded.is_(False), LoginAttempt.at >= since
    )
    by_email = session.execute(failures.where(LoginAttempt.email == email)).one()
    by_addr = session.execute(failures.where(LoginAttempt.remote_addr == remote_addr)).one()
    # An address may try several e-mails, so it gets a larger allowance than one account.
    for count, oldest, limit in ((*by_email, max_failures), (*by_addr, max_failures * 4)):
        if count >= limit:
            retry = int((oldest + timedelta(seconds=window_seconds) - utcnow()).total_seconds())
            session.rollback()
            return SignIn(user=None, throttled=True, retry_after_seconds=max(retry, 1))
    user = session.scalar(select(User).where(User.email == email))
    user_id, stored_hash = (user.id, user.password_hash) if user else (None, _DUMMY_HASH)
    active = user is not None and user.active
    session.commit()  # end the read: the slow hash check must not hold the database
    ok = check_password_hash(stored_hash, password) and active
    session.add(LoginAttempt(email=email, remote_addr=remote_addr, succeeded=ok, user_id=user_id))
    session.commit()
    return SignIn(user=user if ok else None)


def set_locale(session: Session, user_id: int, locale: str | None) -> None:
    """Remember a user's language (None: follow the browser)."""
    user = session.get(User, user_id)
    if user is not None:
        user.locale = locale
        session.commit()


def list_users(session: Session) -> list[User]:
    """Every account, by role then e-mail."""
    return list(session.scalars(select(User).order_by(User.role, User.email)))
