"""API tokens: created for a recruiter or admin, shown once, stored hashed, expiring, revocable."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.database import begin_write
from lms.errors import Invalid, NotFound
from lms.i18n import N_
from lms.models import User, utcnow
from lms.models.accounts import TALENT_ROLES
from lms.models.api_tokens import ApiToken
from lms.services import audit

TOKEN_PREFIX = "atl_"
API_ROLES = TALENT_ROLES
DEFAULT_DAYS = 90
MAX_DAYS = 366


def _digest(token: str) -> str:
    # Tokens are 256 random bits, so a fast hash is enough (no dictionary to guard against).
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(
    session: Session,
    email: str,
    name: str = "",
    days: int = DEFAULT_DAYS,
    by_user_id: int | None = None,
) -> tuple[str, ApiToken]:
    """A new token for the recruiter or admin with this e-mail: (the token, its stored row)."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound(N_("No account with e-mail %(email)s."), email=email)
    if user.role not in API_ROLES or not user.active:
        raise Invalid(
            N_("%(email)s is a %(role)s; API tokens are for active recruiters and admins."),
            email=user.email,
            role=user.role.value,
        )
    if not 1 <= days <= MAX_DAYS:
        raise Invalid(N_("A token lasts between 1 and %(n)s days."), n=MAX_DAYS)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    row = ApiToken(
        user_id=user.id,
        name=name[:120],
        token_sha256=_digest(token),
        prefix=token[:12],
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(row)
    audit.record(session, "token.create", by_user_id, user.id, prefix=row.prefix, days=days)
    session.commit()
    return token, row


def user_for_token(session: Session, token: str) -> User | None:
    """The active recruiter or admin a valid, unrevoked token belongs to (else None)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    begin_write(session)  # even on a GET it writes last_used_at below, after reading the row
    row = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_sha256 == _digest(token), ApiToken.revoked_at.is_(None))
    ).first()
    if row is None:
        return None
    token_row, user = row
    if not user.active or user.role not in API_ROLES:
        return None
    if token_row.expires_at is None or token_row.expires_at <= utcnow():
        return None
    token_row.last_used_at = utcnow()
    session.commit()
    return user


def list_tokens(session: Session) -> list[tuple[ApiToken, str]]:
    """Every token with its owner's e-mail, newest first."""
    rows = session.execute(
        select(ApiToken, User.email)
        .join(User, User.id == ApiToken.user_id)
        .order_by(ApiToken.id.desc())
    )
    return [(token, email) for token, email in rows]


def revoke_token(session: Session, token_id: int, by_user_id: int | None = None) -> bool:
    """Revoke a token at once; False if there is no such token."""
    row = session.get(ApiToken, token_id)
    if row is None:
        return False
    if row.revoked_at is None:
        audit.record(session, "token.revoke", by_user_id, row.user_id, prefix=row.prefix)
    row.revoked_at = row.revoked_at or utcnow()
    session.commit()
    return True
