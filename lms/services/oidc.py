"""Signing in through an organisation's OpenID Connect provider: its settings, and the account
policy (`sign_in` finds, links or creates the account a verified identity signs in to).

The protocol itself (the redirect, then the checks of the provider's answer) is in
`lms.services.oidc_protocol`, imported only when the sign-in is configured. A refusal stores
nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.errors import Forbidden
from lms.i18n import N_
from lms.models import ExternalIdentity, LoginAttempt, User, UserRole
from lms.services import audit
from lms.services.accounts import unusable_password_hash


@dataclass(frozen=True)
class Provider:
    """An organisation's provider and the account policy for the people it signs in."""

    issuer: str
    client_id: str
    client_secret: str
    name: str
    create_accounts: str = "off"  # "trainee": an unknown verified e-mail gets a trainee account
    link_accounts: str = "trainee"  # which existing accounts a verified e-mail may link
    email_domains: tuple[str, ...] = ()  # empty: any domain

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Provider | None:
        """The provider configured in a Flask config (OIDC_* keys), None when sign-in is off."""
        if not config.get("OIDC_ISSUER"):
            return None
        return cls(
            issuer=config["OIDC_ISSUER"].rstrip("/"),
            client_id=config["OIDC_CLIENT_ID"],
            client_secret=config["OIDC_CLIENT_SECRET"],
            name=config.get("OIDC_NAME") or config["OIDC_ISSUER"],
            create_accounts=config.get("OIDC_CREATE_ACCOUNTS", "off"),
            link_accounts=config.get("OIDC_LINK_ACCOUNTS", "trainee"),
            email_domains=tuple(config.get("OIDC_EMAIL_DOMAINS", ())),
        )


@dataclass(frozen=True)
class Identity:
    """What a verified ID token (and the userinfo endpoint) says about the person."""

    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str


# --- the account policy --------------------------------------------------------------------


def sign_in(session: Session, provider: Provider, person: Identity, remote_addr: str) -> User:
    """The account `person` signs in to: linked before, linked now by verified e-mail, or
    created, as the policy allows. Refusals store nothing."""
    row = session.execute(
        select(ExternalIdentity, User)
        .join(User, User.id == ExternalIdentity.user_id)
        .where(ExternalIdentity.issuer == person.issuer, ExternalIdentity.subject == person.subject)
    ).first()
    if row is not None:
        user = row[1]
        _check_active(session, user)
    else:
        user = _link_or_create(session, provider, person)
    session.add(
        LoginAttempt(
            email=user.email, remote_addr=remote_addr[:64], succeeded=True, user_id=user.id
        )
    )
    session.commit()
    return user


def _check_active(session: Session, user: User) -> None:
    if not user.active or user.anonymised_at is not None:
        session.rollback()
        raise Forbidden(N_("This account is disabled. Ask an administrator."))


def _link_or_create(session: Session, provider: Provider, person: Identity) -> User:
    if not person.email or not person.email_verified:
        session.rollback()
        raise Forbidden(
            N_(
                "%(name)s did not confirm your e-mail address, so it cannot be matched to an "
                "account here. Confirm it there, or ask an administrator."
            ),
            name=provider.name,
        )
    domain = person.email.rpartition("@")[2]
    if provider.email_domains and domain not in provider.email_domains:
        session.rollback()
        raise Forbidden(
            N_(
                "Addresses at %(domain)s cannot sign in here through %(name)s. Use your "
                "organisation's address, or ask an administrator."
            ),
            domain=domain,
            name=provider.name,
        )
    user = session.scalar(select(User).where(User.email == person.email))
    if user is None:
        return _create(session, provider, person)
    _check_active(session, user)
    linkable = provider.link_accounts == "all" or (
        provider.link_accounts == "trainee" and user.role == UserRole.TRAINEE
    )
    if not linkable:
        session.rollback()
        raise Forbidden(
            N_(
                "The account for %(email)s cannot be linked to %(name)s by signing in. Sign in "
                "with its password, or ask an administrator."
            ),
            email=person.email,
            name=provider.name,
        )
    already = session.scalar(
        select(ExternalIdentity.id).where(
            ExternalIdentity.issuer == person.issuer, ExternalIdentity.user_id == user.id
        )
    )
    if already is not None:
        session.rollback()
        raise Forbidden(
            N_(
                "The account for %(email)s is linked to another identity at %(name)s. Ask an "
                "administrator."
            ),
            email=person.email,
            name=provider.name,
        )
    session.add(ExternalIdentity(issuer=person.issuer, subject=person.subject, user_id=user.id))
    audit.record(session, "account.oidc_link", user.id, user.id, issuer=person.issuer)
    return user


def _create(session: Session, provider: Provider, person: Identity) -> User:
    if provider.create_accounts != "trainee":
        session.rollback()
        raise Forbidden(
            N_("There is no account for %(email)s here. Ask an administrator for an invitation."),
            email=person.email,
        )
    user = User(
        email=person.email,
        role=UserRole.TRAINEE,
        password_hash=unusable_password_hash(),
        display_name=person.name,
    )
    session.add(user)
    session.flush()
    session.add(ExternalIdentity(issuer=person.issuer, subject=person.subject, user_id=user.id))
    audit.record(session, "account.oidc_create", user.id, user.id, issuer=person.issuer)
    return user
