"""Accounts: creating users, signing in with throttling, passwords, sessions, and an account's
life cycle (invitation and reset links, disabling, roles, deletion with anonymisation)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from lms.errors import Conflict, Forbidden, Invalid, NotFound
from lms.i18n import N_
from lms.models import (
    AccountLink,
    ExternalIdentity,
    LinkPurpose,
    LoginAttempt,
    User,
    UserRole,
    utcnow,
)
from lms.models.api_tokens import ApiToken
from lms.models.talent import ReportShare
from lms.services import audit

MIN_PASSWORD_LENGTH = 10
# OWASP's scrypt floor (N=2^17, r=8, p=1: 128 MiB, about half a second). Hashes made with other
# parameters still verify, and are replaced by one with these at the next sign-in.
PASSWORD_METHOD = "scrypt:131072:8:1"
# Checked against when the e-mail is unknown, so both paths cost one scrypt (no timing oracle).
_DUMMY_HASH = generate_password_hash("not-a-real-password", method=PASSWORD_METHOD)
# Growing delays after repeated failures: the first wait, doubled at each further failure.
FIRST_DELAY_SECONDS = 30
# Sign-in records older than this are deleted (they only serve throttling and investigations).
LOGIN_RECORD_DAYS = 30
INVITE_DAYS = 7
RESET_HOURS = 24


def hash_password(password: str) -> str:
    """A scrypt hash of `password` (werkzeug's format, salted, OWASP's parameters)."""
    return generate_password_hash(password, method=PASSWORD_METHOD)


def needs_rehash(stored_hash: str) -> bool:
    """Whether a stored hash was made with other parameters than today's."""
    return stored_hash.split("$", 1)[0] != PASSWORD_METHOD


def generate_password() -> str:
    """A random password that is easy to copy (about 96 bits)."""
    return secrets.token_urlsafe(12)


def unusable_password_hash() -> str:
    """A stored value no password matches (werkzeug refuses it without hashing)."""
    return "!" + secrets.token_hex(16)


def normalise_email(email: str) -> str:
    """The canonical form we store and look up."""
    return email.strip().lower()


def _role(role: UserRole | str) -> UserRole:
    try:
        return UserRole(role)
    except ValueError:
        roles = ", ".join(r.value for r in UserRole)
        raise Invalid(
            N_("Unknown role %(role)s: use one of %(roles)s."), role=role, roles=roles
        ) from None


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
    role = _role(role)
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


def set_password(session: Session, user: User, password: str, *, must_change: bool = False) -> None:
    """Replace a user's password and end their sessions (no check of the old one)."""
    _check_password_strength(password)
    user.password_hash = hash_password(password)
    user.must_change_password = must_change
    user.session_version += 1
    session.commit()


def change_password(session: Session, user_id: int, current: str, new: str) -> User:
    """Change a user's own password after checking the current one; other sessions end."""
    user = session.get(User, user_id)
    if user is None or not check_password_hash(user.password_hash, current):
        raise Invalid(N_("The current password is wrong."))
    if secrets.compare_digest(current.encode(), new.encode()):
        raise Invalid(N_("Choose a new password: this is your current one."))
    set_password(session, user, new)
    return user


def _check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(N_("Passwords need at least %(n)s characters."), n=MIN_PASSWORD_LENGTH)
    if len(password) > 1024:
        raise Invalid(N_("Passwords can have at most %(n)s characters."), n=1024)


# --- sessions ------------------------------------------------------------------------------


def load_session_user(session: Session, session_id: str) -> User | None:
    """The active user a session identity ("id.version") belongs to, if it is still current."""
    user_id, _, version = session_id.partition(".")
    if not (user_id.isdigit() and version.isdigit()) or len(session_id) > 40:
        return None
    user = session.get(User, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def end_sessions(session: Session, user_id: int) -> User | None:
    """End every session of the user (signed cookies cannot be recalled: their version can).
    Returns the user with the new version (to carry on in a fresh session), None if unknown."""
    session.execute(
        update(User).where(User.id == user_id).values(session_version=User.session_version + 1)
    )
    session.commit()
    user = session.get(User, user_id)
    if user is not None:
        session.refresh(user)
    return user


# --- signing in ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt: the user, or why not (and for how long if throttled)."""

    user: User | None
    throttled: bool = False
    retry_after_seconds: int = 0


def _wait(failures: int, last: Any, allowance: int, window_seconds: int) -> int:
    """Seconds still to wait after `failures` recent failures (0: go ahead)."""
    if failures < allowance or last is None:
        return 0
    delay = min(window_seconds, FIRST_DELAY_SECONDS * 2 ** min(failures - allowance, 20))
    return max(0, int((last + timedelta(seconds=delay) - utcnow()).total_seconds()) + 1)


def authenticate(
    session: Session,
    email: str,
    password: str,
    remote_addr: str,
    max_failures: int = 5,
    window_seconds: int = 900,
) -> SignIn:
    """Check credentials, with growing delays after failures from the same address.

    Failures count per (account, address) and per address: someone elsewhere failing against
    an account never keeps its owner out, and one address cannot try many accounts quickly.
    """
    email = normalise_email(email)[:254]
    remote_addr = remote_addr[:64]
    since = utcnow() - timedelta(seconds=window_seconds)
    failures = select(func.count(), func.max(LoginAttempt.at)).where(
        LoginAttempt.succeeded.is_(False),
        LoginAttempt.at >= since,
        LoginAttempt.remote_addr == remote_addr,
    )
    pair = session.execute(failures.where(LoginAttempt.email == email)).one()
    by_addr = session.execute(failures).one()
    wait = max(
        _wait(*pair, max_failures, window_seconds),
        _wait(*by_addr, max_failures * 4, window_seconds),
    )
    if wait:
        session.rollback()
        return SignIn(user=None, throttled=True, retry_after_seconds=wait)
    user = session.scalar(select(User).where(User.email == email))
    stored_hash = user.password_hash if user else _DUMMY_HASH
    active = user is not None and user.active
    session.commit()  # end the read: the slow hash check must not hold the database
    ok = check_password_hash(stored_hash, password) and active
    session.add(
        LoginAttempt(
            email=email, remote_addr=remote_addr, succeeded=ok, user_id=user.id if user else None
        )
    )
    if ok and needs_rehash(stored_hash):
        user.password_hash = hash_password(password)
    if ok:
        session.execute(
            delete(LoginAttempt).where(
                LoginAttempt.at < utcnow() - timedelta(days=LOGIN_RECORD_DAYS)
            )
        )
    session.commit()
    return SignIn(user=user if ok else None)


def set_locale(session: Session, user_id: int, locale: str | None) -> None:
    """Remember a user's language (None: follow the browser)."""
    user = session.get(User, user_id)
    if user is not None:
        user.locale = locale
        session.commit()


# --- one-time links ------------------------------------------------------------------------


def _digest(token: str) -> str:
    # 256 random bits: a fast hash suffices (nothing to guess), and the DB never holds the link.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _new_link(
    session: Session, user: User, purpose: LinkPurpose, lifetime: timedelta, by_user_id: int | None
) -> str:
    # A new link replaces the unused ones of the same purpose: only the latest works.
    session.execute(
        delete(AccountLink).where(
            AccountLink.user_id == user.id,
            AccountLink.purpose == purpose,
            AccountLink.used_at.is_(None),
        )
    )
    token = secrets.token_urlsafe(32)
    session.add(
        AccountLink(
            user_id=user.id,
            purpose=purpose,
            token_sha256=_digest(token),
            expires_at=utcnow() + lifetime,
            by_user_id=by_user_id,
        )
    )
    return token


def invite(
    session: Session, email: str, role: UserRole | str, display_name: str, by_user_id: int
) -> tuple[User, str]:
    """Create an account without a password and a one-time invitation link token for it."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise Invalid(N_("%(email)s is not an e-mail address."), email=email)
    role = _role(role)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(N_("A user with e-mail %(email)s already exists."), email=email)
    user = User(
        email=email,
        role=role,
        password_hash=unusable_password_hash(),
        display_name=display_name[:120],
    )
    session.add(user)
    session.flush()
    token = _new_link(session, user, LinkPurpose.INVITE, timedelta(days=INVITE_DAYS), by_user_id)
    audit.record(session, "account.invite", by_user_id, user.id, role=role.value)
    session.commit()
    return user, token


def reset_link(session: Session, user_id: int, by_user_id: int) -> str:
    """A one-time password-reset link token for an account (an admin hands it over)."""
    user = _live_user(session, user_id)
    token = _new_link(session, user, LinkPurpose.RESET, timedelta(hours=RESET_HOURS), by_user_id)
    audit.record(session, "account.reset_link", by_user_id, user.id)
    session.commit()
    return token


def link_user(session: Session, token: str) -> tuple[AccountLink, User]:
    """The valid link behind `token` and its account (NotFound if unknown, used or expired)."""
    row = session.execute(
        select(AccountLink, User)
        .join(User, User.id == AccountLink.user_id)
        .where(AccountLink.token_sha256 == _digest(token[:200]))
    ).first()
    if (
        row is None
        or row[0].used_at is not None
        or row[0].expires_at <= utcnow()
        or row[1].anonymised_at is not None
    ):
        session.rollback()
        raise NotFound(
            N_("This link is unknown, used or expired. Ask an administrator for a new one.")
        )
    return row[0], row[1]


def use_link(session: Session, token: str, password: str) -> User:
    """Set the account's password through a one-time link, which is then spent."""
    link, user = link_user(session, token)
    _check_password_strength(password)
    link.used_at = utcnow()
    user.active = True if link.purpose == LinkPurpose.INVITE else user.active
    set_password(session, user, password)  # commits, and ends any other session
    return user


# --- an admin's actions on accounts --------------------------------------------------------


def list_users(session: Session) -> list[User]:
    """Every account, by role then e-mail."""
    return list(session.scalars(select(User).order_by(User.role, User.email)))


def get_user(session: Session, user_id: int) -> User | None:
    """The account with this id, if any."""
    return session.get(User, user_id)


def _live_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or user.anonymised_at is not None:
        raise NotFound(N_("There is no such account."))
    return user


def _not_self(user: User, by_user_id: int) -> None:
    if user.id == by_user_id:
        raise Forbidden(N_("You cannot do this to your own account; ask another admin."))


def set_active(session: Session, user_id: int, active: bool, by_user_id: int) -> User:
    """Disable (ending every session and token use) or enable an account."""
    user = _live_user(session, user_id)
    _not_self(user, by_user_id)
    if user.active != active:
        user.active = active
        user.session_version += 1
        audit.record(
            session, "account.enable" if active else "account.disable", by_user_id, user.id
        )
    session.commit()
    return user


def change_role(session: Session, user_id: int, role: UserRole | str, by_user_id: int) -> User:
    """Give an account another role; its sessions end (the old role's pages are closed)."""
    user = _live_user(session, user_id)
    _not_self(user, by_user_id)
    role = _role(role)
    if user.role != role:
        audit.record(
            session, "account.role", by_user_id, user.id, before=user.role.value, after=role.value
        )
        user.role = role
        user.session_version += 1
    session.commit()
    return user


def admin_set_password(session: Session, user_id: int, by_user_id: int) -> tuple[User, str]:
    """A new generated password for an account, to be changed at its next sign-in."""
    user = _live_user(session, user_id)
    password = generate_password()
    audit.record(session, "account.password_reset", by_user_id, user.id)
    set_password(session, user, password, must_change=True)
    return user, password


def delete_account(session: Session, user_id: int, by_user_id: int) -> dict[str, Any]:
    """Delete an account (Morocco's law 09-08): export what we hold, then anonymise.

    The row stays so that grades, marks and the audit log keep pointing somewhere, but the
    person is gone: e-mail, name, password, tokens, links, sessions, sign-in records and the
    identities at OpenID Connect providers.
    Returns the export taken just before.
    """
    from lms.services.talent import export_trainee_data

    user = _live_user(session, user_id)
    _not_self(user, by_user_id)
    export = export_trainee_data(session, user_id)
    audit.record(session, "account.delete", by_user_id, user.id)
    audit.anonymise(session, user.id, f"deleted-{user.id}@invalid")
    session.execute(
        delete(LoginAttempt).where(
            (LoginAttempt.user_id == user.id) | (LoginAttempt.email == user.email)
        )
    )
    if user.role == UserRole.TRAINEE:
        session.add(ReportShare(trainee_id=user.id, shared=False, at=utcnow()))
    user.email = f"deleted-{user.id}@invalid"
    user.display_name = ""
    user.password_hash = unusable_password_hash()
    user.active = False
    user.locale = None
    user.session_version += 1
    user.anonymised_at = utcnow()
    session.execute(delete(AccountLink).where(AccountLink.user_id == user.id))
    session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    session.execute(delete(ExternalIdentity).where(ExternalIdentity.user_id == user.id))
    session.commit()
    return export
