"""Accounts: users with one role each, the login attempts used for throttling, the one-time
links (invitations, password resets) an admin hands out, and identities at OpenID Connect
providers."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Enum, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms.i18n import N_
from lms.models.base import Base, utcnow


class UserRole(enum.StrEnum):
    """What a user may do: each role has its own pages.

    The one place for roles: their stored values, their names (pages show `_(role.label)`, in
    English or French) and the groups below that say who may open which pages."""

    TRAINEE = "trainee"
    INSTRUCTOR = "instructor"
    RECRUITER = "recruiter"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        """The role's name for people, marked for translation (the web layer translates it)."""
        return _ROLE_LABELS[self]

    @property
    def is_staff(self) -> bool:
        """Whether the role sees every trainee's work (instructors and admins)."""
        return self in STAFF_ROLES


_ROLE_LABELS = {
    UserRole.TRAINEE: N_("Trainee"),
    UserRole.INSTRUCTOR: N_("Instructor"),
    UserRole.RECRUITER: N_("Recruiter"),
    UserRole.ADMIN: N_("Administrator"),
}

# Who sees every trainee's work, hidden tests included (and grades by hand).
STAFF_ROLES = (UserRole.INSTRUCTOR, UserRole.ADMIN)
# Who follows courses and submits exercises: trainees, and the staff trying their own content.
LEARNER_ROLES = (UserRole.TRAINEE, UserRole.INSTRUCTOR, UserRole.ADMIN)
# Who sees readiness and the hiring pipeline, on pages and through API tokens.
TALENT_ROLES = (UserRole.RECRUITER, UserRole.ADMIN)


class User(UserMixin, Base):
    """A person who signs in."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[UserRole] = mapped_column(
        Enum(UserRole, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    locale: Mapped[str | None] = mapped_column(String(5), default=None)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Part of every session's identity: bumping it ends every session of the user at once
    # (sign-out, password or role change, deactivation), since sessions are signed cookies.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")
    # An admin chose the password: the user must pick their own at the next sign-in.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default="0")
    # Set when the account was deleted: the row stays (history points at it), the person is gone.
    anonymised_at: Mapped[datetime | None] = mapped_column(default=None)

    def get_id(self) -> str:
        """Flask-Login's session identity: the id and the session version ("12.3")."""
        return f"{self.id}.{self.session_version}"

    @property
    def is_active(self) -> bool:  # Flask-Login: deactivated accounts cannot sign in
        """Whether the account may sign in."""
        return self.active

    @property
    def is_staff(self) -> bool:
        """Whether the user is an instructor or an admin."""
        return self.role.is_staff

    @property
    def name(self) -> str:
        """What to call the user on a page."""
        return self.display_name or self.email


class LoginAttempt(Base):
    """One sign-in attempt, kept for throttling repeated failures (per e-mail and per address)."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_email_at", "email", "at"),
        Index("ix_login_attempts_remote_addr_at", "remote_addr", "at"),
        Index("ix_login_attempts_at", "at"),  # pruning old records
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    remote_addr: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool]
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), default=None
    )


class LinkPurpose(enum.StrEnum):
    """What a one-time link lets its holder do."""

    INVITE = "invite"  # a new account: choose a password, then sign in
    RESET = "reset"  # an existing account: choose a new password


class AccountLink(Base):
    """A one-time, expiring link for an account; only its hash is kept (the link is shown once)."""

    __tablename__ = "account_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[LinkPurpose] = mapped_column(
        Enum(
            LinkPurpose,
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )


class ExternalIdentity(Base):
    """A person as an organisation's OpenID Connect provider knows them (issuer and subject),
    linked to one account; the provider's e-mail may change, the pair never does."""

    __tablename__ = "external_identities"
    __table_args__ = (
        UniqueConstraint("issuer", "subject"),
        # One identity per provider and account: a second one for the same account is refused.
        UniqueConstraint("issuer", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
