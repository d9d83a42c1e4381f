"""LMS platforms registered by an admin, and the pylti1p3 tool configuration read from them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from pylti1p3.deployment import Deployment
from pylti1p3.registration import Registration
from pylti1p3.tool_config.abstract import ToolConfAbstract
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lms.errors import Conflict, Invalid, NotFound
from lms.i18n import N_
from lms.models.lti import LtiPlatform
from lms.services import audit, lti_keys

MAX_DEPLOYMENTS = 50


@dataclass(frozen=True)
class PlatformInput:
    """What an admin types to register an LMS."""

    name: str
    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    key_set_url: str
    deployment_ids: str  # one per line or comma-separated


_URL_REFUSALS = {
    "issuer": N_("The issuer must be a full http(s) URL, such as https://lms.example.org."),
    "auth_login_url": N_("The authentication URL must be a full http(s) URL."),
    "auth_token_url": N_("The access token URL must be a full http(s) URL."),
    "key_set_url": N_("The keyset URL must be a full http(s) URL."),
}


def _url(value: str, field: str) -> str:
    value = (value or "").strip()
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.netloc or len(value) > 1000:
        raise Invalid(_URL_REFUSALS[field])
    return value


def _clean(data: PlatformInput) -> dict[str, Any]:
    name = data.name.strip()
    client_id = data.client_id.strip()
    if not name or len(name) > 120:
        raise Invalid(N_("Give the platform a name of 1 to 120 characters."))
    if not client_id or len(client_id) > 255:
        raise Invalid(N_("The client id is required (the LMS shows it when you add the tool)."))
    deployments = [d.strip() for d in data.deployment_ids.replace(",", "\n").splitlines()]
    deployments = list(dict.fromkeys(d for d in deployments if d))
    if not deployments:
        raise Invalid(N_("Give at least one deployment id (the LMS shows it for the tool)."))
    if len(deployments) > MAX_DEPLOYMENTS or any(len(d) > 255 for d in deployments):
        raise Invalid(N_("Too many or too long deployment ids (at most 50, 255 characters each)."))
    if len(data.issuer.strip()) > 500:
        raise Invalid(_URL_REFUSALS["issuer"])
    return {
        "name": name,
        "issuer": _url(data.issuer, "issuer"),
        "client_id": client_id,
        "auth_login_url": _url(data.auth_login_url, "auth_login_url"),
        "auth_token_url": _url(data.auth_token_url, "auth_token_url"),
        "key_set_url": _url(data.key_set_url, "key_set_url"),
        "deployment_ids": deployments,
    }


def register(session: Session, data: PlatformInput, actor_id: int | None) -> LtiPlatform:
    """Register an LMS; an issuer and client id pair is registered once."""
    platform = LtiPlatform(**_clean(data))
    session.add(platform)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict(
            N_("This issuer and client id are already registered: edit that platform instead.")
        ) from None
    audit.record(session, "lti.platform_added", actor_id, None, issuer=platform.issuer)
    session.commit()
    return platform


def update(
    session: Session, platform_id: int, data: PlatformInput, actor_id: int | None
) -> LtiPlatform:
    """Change a registered platform (its endpoints, its deployments)."""
    values = _clean(data)
    platform = get(session, platform_id)
    for field, value in values.items():
        setattr(platform, field, value)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict(N_("Another platform has this issuer and client id.")) from None
    audit.record(session, "lti.platform_changed", actor_id, None, issuer=platform.issuer)
    session.commit()
    return platform


def remove(session: Session, platform_id: int, actor_id: int) -> None:
    """Remove a platform: its launches stop; the accounts it created stay."""
    platform = get(session, platform_id)
    audit.record(session, "lti.platform_removed", actor_id, None, issuer=platform.issuer)
    session.delete(platform)
    session.commit()


def get(session: Session, platform_id: int) -> LtiPlatform:
    """A registered platform, or NotFound."""
    platform = session.get(LtiPlatform, platform_id)
    if platform is None:
        raise NotFound(N_("No such platform."))
    return platform


def list_platforms(session: Session) -> list[LtiPlatform]:
    """Every registered platform, by name."""
    return list(session.scalars(select(LtiPlatform).order_by(LtiPlatform.name, LtiPlatform.id)))


def find(session: Session, issuer: str, client_id: str | None) -> LtiPlatform | None:
    """The platform of an issuer (and client id, when the issuer has several)."""
    query = select(LtiPlatform).where(LtiPlatform.issuer == issuer)
    if client_id:
        query = query.where(LtiPlatform.client_id == client_id)
    found = list(session.scalars(query.limit(2)))
    return found[0] if len(found) == 1 else None


def registration_for(session: Session, platform: LtiPlatform) -> Registration:
    """The pylti1p3 registration of a platform, signing with our current key."""
    key = lti_keys.signing_key(session)
    from jwcrypto.jwk import JWK

    public_pem = JWK(**key.public_jwk).export_to_pem().decode()
    return (
        Registration()
        .set_issuer(platform.issuer)
        .set_client_id(platform.client_id)
        .set_auth_login_url(platform.auth_login_url)
        .set_auth_token_url(platform.auth_token_url)
        .set_key_set_url(platform.key_set_url)
        .set_tool_private_key(key.private_pem)
        .set_tool_public_key(public_pem)
    )


class DatabaseToolConf(ToolConfAbstract):
    """pylti1p3's tool configuration, read from the registered platforms."""

    def __init__(self, session: Session) -> None:
        self.session = session
        # Our issuers may have several client ids (one per registration in the LMS).
        self.issuers_relation_types = _ManyClients()

    def _platform(self, iss: str, client_id: str | None) -> LtiPlatform | None:
        return find(self.session, iss, client_id)

    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any):
        """The registration of an issuer with a single client id."""
        platform = self._platform(iss, None)
        return registration_for(self.session, platform) if platform else None

    def find_registration_by_params(self, iss: str, client_id: str, *args: Any, **kwargs: Any):
        """The registration of an issuer and client id."""
        platform = self._platform(iss, client_id)
        return registration_for(self.session, platform) if platform else None

    def find_deployment(self, iss: str, deployment_id: str):
        """A deployment of an issuer with a single client id."""
        return self.find_deployment_by_params(iss, deployment_id, None)

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str | None, *args: Any, **kwargs: Any
    ):
        """A registered deployment, or None (the launch is then refused)."""
        platform = self._platform(iss, client_id)
        if platform is None or deployment_id not in platform.deployment_ids:
            return None
        return Deployment().set_deployment_id(deployment_id)


class _ManyClients(dict):
    """Every issuer may have many client ids: pylti1p3 then matches issuer and client id."""

    def get(self, key: str, default: Any = None) -> str:
        from pylti1p3.tool_config.abstract import IssuerToClientRelation

        return IssuerToClientRelation.MANY_CLIENTS_IDS_PER_ISSUER


class _BoundedSession(requests.Session):
    """HTTP to an LMS with a timeout: a platform that hangs must not hold a worker forever."""

    TIMEOUT_SECONDS = 15

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.TIMEOUT_SECONDS)
        return super().request(*args, **kwargs)


def http_session() -> requests.Session:
    """The HTTP session pylti1p3 uses to reach platforms (JWKS, tokens, scores)."""
    session = _BoundedSession()
    session.headers["User-Agent"] = "Atlas-LTI"
    return session
