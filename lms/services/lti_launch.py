"""LTI 1.3 launches: the launch data an OIDC login leaves in the database, and what a validated
resource-link launch does here (the LMS user mapped to an account, the line item kept).

pylti1p3 validates the launch (state, signature against the platform's JWKS, deployment,
message); this module then consumes the nonce once, so a replayed id_token is refused even
within the lifetime pylti1p3 would accept it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from pylti1p3.launch_data_storage.base import LaunchDataStorage
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lms.database import begin_write
from lms.errors import Forbidden, Invalid
from lms.i18n import N_
from lms.models import Exercise, User, UserRole
from lms.models.base import utcnow
from lms.models.lti import LtiGradeLink, LtiIdentity, LtiLaunchData, LtiPlatform
from lms.services import audit, lti_platforms
from lms.services.accounts import unusable_password_hash

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
DEFAULT_LIFETIME = 86400
# The LIS role vocabularies: a context (course) role, or the short form LMSs also send.
_STAFF_ROLES = ("Instructor", "Administrator", "ContentDeveloper", "Mentor", "TeachingAssistant")
_LEARNER_ROLES = ("Learner",)


class DatabaseLaunchData(LaunchDataStorage[Any]):
    """pylti1p3's launch data storage (state, nonce, launch) in our database, with expiry.

    No session cookie of its own: the launch is a cross-site POST, which a browser sends
    without our session cookie; the state cookie pylti1p3 sets is what ties it to the login."""

    _session_cookie_name = ""

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session

    def get_session_cookie_name(self) -> str | None:
        """No session id: keys are the nonces and states themselves (unguessable)."""
        return None

    def can_set_keys_expiration(self) -> bool:
        """Entries expire."""
        return True

    def get_value(self, key: str) -> Any:
        """A stored value, or None once expired."""
        row = self.session.get(LtiLaunchData, self._prepare_key(key))
        if row is None or row.expires_at <= utcnow():
            return None
        return row.value

    def set_value(self, key: str, value: Any, exp: int | None = None) -> None:
        """Store a value for `exp` seconds (committed: the next request reads it)."""
        key = self._prepare_key(key)
        begin_write(self.session)  # the OIDC login is a GET: its transaction began as a reader
        # Expired states and nonces go as new ones come: the table holds minutes of logins.
        self.session.execute(delete(LtiLaunchData).where(LtiLaunchData.expires_at <= utcnow()))
        row = self.session.get(LtiLaunchData, key) or LtiLaunchData(key=key)
        row.value = value
        row.expires_at = utcnow() + timedelta(seconds=exp or DEFAULT_LIFETIME)
        self.session.add(row)
        self.session.commit()

    def check_value(self, key: str) -> bool:
        """Whether a value is stored and not expired."""
        return self.get_value(key) is not None


def consume_nonce(session: Session, nonce: str) -> None:
    """Use a login's nonce once: a second launch with it is a replay and is refused."""
    key = f"lti1p3-nonce-{nonce}"
    deleted = session.execute(
        delete(LtiLaunchData).where(LtiLaunchData.key == key, LtiLaunchData.expires_at > utcnow())
    ).rowcount
    session.commit()
    if deleted != 1:
        raise Forbidden(
            N_(
                "This launch was already used (or its login expired): "
                "open the link again from the LMS."
            )
        )


@dataclass(frozen=True)
class Launch:
    """Where a validated launch lands: the account signed in, the exercise opened."""

    user: User
    exercise_slug: str
    platform_id: int


def role_for(roles: list[str]) -> UserRole:
    """Our role for the LMS's roles: staff of the course -> instructor, learner -> trainee."""
    names = {str(role).rsplit("#", 1)[-1].rsplit("/", 1)[-1] for role in roles or []}
    if names & set(_STAFF_ROLES):
        return UserRole.INSTRUCTOR
    if names & set(_LEARNER_ROLES):
        return UserRole.TRAINEE
    raise Forbidden(
        N_("The LMS gave no Learner or Instructor role for this course: ask its administrator.")
    )


def _exercise_slug(claims: dict[str, Any]) -> str:
    custom = claims.get(CLAIM + "custom") or {}
    slug = custom.get("exercise") if isinstance(custom, dict) else None
    if not slug:
        path = urlsplit(str(claims.get(CLAIM + "target_link_uri", ""))).path.rstrip("/")
        parts = path.split("/")
        if len(parts) >= 2 and parts[-2] == "exercises":
            slug = parts[-1]
    if not slug:
        raise Invalid(
            N_(
                "The link does not say which exercise to open: set its custom parameter "
                "exercise=<slug> or its target URL to /exercises/<slug>."
            )
        )
    return str(slug)


def _synthetic_email(issuer: str, sub: str) -> str:
    # Never matched to an existing account by e-mail: an LMS could claim anyone's address.
    digest = hashlib.sha256(f"{issuer}\n{sub}".encode()).hexdigest()[:24]
    return f"lti-{digest}@lti.invalid"


def account_for(session: Session, platform: LtiPlatform, claims: dict[str, Any]) -> User:
    """The account of an LMS user (made at first sight), its role following the LMS."""
    issuer, sub = claims["iss"], str(claims.get("sub") or "")
    if not sub:
        raise Invalid(N_("The launch has no user (sub): anonymous launches are not supported."))
    role = role_for(claims.get(CLAIM + "roles") or [])
    name = str(claims.get("name") or claims.get("given_name") or "")[:120]
    identity = session.scalars(
        select(LtiIdentity).where(LtiIdentity.issuer == issuer, LtiIdentity.sub == sub)
    ).first()
    if identity is None:
        user = User(
            email=_synthetic_email(issuer, sub),
            display_name=name,
            password_hash=unusable_password_hash(),
            role=role,
        )
        session.add(user)
        session.flush()
        session.add(LtiIdentity(issuer=issuer, sub=sub, platform_id=platform.id, user_id=user.id))
        audit.record(session, "lti.account_created", None, user.id, issuer=issuer, role=role)
        return user
    user = session.get(User, identity.user_id)
    if not user.is_active:
        raise Forbidden(N_("This account is disabled here: ask an administrator."))
    # The LMS is the authority on course roles for the accounts it created (never an admin's).
    if user.role in (UserRole.TRAINEE, UserRole.INSTRUCTOR) and user.role != role:
        audit.record(session, "lti.role_changed", None, user.id, before=user.role, after=role)
        user.role = role
        user.session_version += 1
    if name:
        user.display_name = name
    return user


def _keep_line_item(
    session: Session, platform: LtiPlatform, user: User, exercise: Exercise, claims: dict
) -> None:
    endpoint = claims.get(AGS_CLAIM) or {}
    scopes = endpoint.get("scope") or []
    lineitem = endpoint.get("lineitem")
    if not lineitem or SCORE_SCOPE not in scopes or user.role is not UserRole.TRAINEE:
        return
    link = session.scalars(
        select(LtiGradeLink).where(
            LtiGradeLink.user_id == user.id,
            LtiGradeLink.exercise_id == exercise.id,
            LtiGradeLink.platform_id == platform.id,
        )
    ).first() or LtiGradeLink(platform_id=platform.id, user_id=user.id, exercise_id=exercise.id)
    link.sub, link.lineitem_url, link.scopes = str(claims["sub"]), lineitem, list(scopes)
    link.updated_at = utcnow()
    session.add(link)


def accept_resource_launch(session: Session, claims: dict[str, Any]) -> Launch:
    """A validated resource-link launch: the account (made at the first launch), the line item
    scores go back to, and the exercise to open. All or nothing."""
    client_id = claims.get("aud")
    client_id = client_id[0] if isinstance(client_id, list) else client_id
    platform = lti_platforms.find(session, claims.get("iss", ""), client_id)
    if platform is None:
        raise Forbidden(N_("This LMS is not registered here: an administrator must add it."))
    if claims.get(CLAIM + "message_type") != "LtiResourceLinkRequest":
        raise Invalid(N_("Only resource-link launches open an exercise."))
    try:
        slug = _exercise_slug(claims)
        exercise = session.scalars(select(Exercise).where(Exercise.slug == slug)).first()
        if exercise is None:
            raise Invalid(
                N_("The link names exercise “%(slug)s”, which does not exist."), slug=slug
            )
        user = account_for(session, platform, claims)
        _keep_line_item(session, platform, user, exercise, claims)
    except Exception:
        session.rollback()
        raise
    session.commit()
    return Launch(user=user, exercise_slug=exercise.slug, platform_id=platform.id)


DL_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"


@dataclass(frozen=True)
class DeepLinkRequest:
    """A validated deep-linking launch: the instructor signed in and where to answer."""

    user: User
    platform_id: int
    deployment_id: str
    settings: dict[str, Any]


def accept_deep_linking(session: Session, claims: dict[str, Any]) -> DeepLinkRequest:
    """A validated deep-linking launch: only the course's staff pick what the LMS links to."""
    client_id = claims.get("aud")
    client_id = client_id[0] if isinstance(client_id, list) else client_id
    platform = lti_platforms.find(session, claims.get("iss", ""), client_id)
    if platform is None:
        raise Forbidden(N_("This LMS is not registered here: an administrator must add it."))
    if role_for(claims.get(CLAIM + "roles") or []) is not UserRole.INSTRUCTOR:
        raise Forbidden(N_("Only the course's instructors choose which exercise the LMS links to."))
    try:
        user = account_for(session, platform, claims)
    except Exception:
        session.rollback()
        raise
    settings = claims.get(DL_CLAIM) or {}
    return_url = str(settings.get("deep_link_return_url") or "")
    if urlsplit(return_url).scheme not in ("https", "http"):
        session.rollback()
        raise Invalid(N_("The LMS gave no deep-linking return URL: it cannot receive a link."))
    session.commit()
    return DeepLinkRequest(
        user=user,
        platform_id=platform.id,
        deployment_id=str(claims.get(CLAIM + "deployment_id")),
        settings={
            "deep_link_return_url": settings.get("deep_link_return_url"),
            "data": settings.get("data"),
        },
    )


def deep_link_response(
    session: Session,
    platform_id: int,
    deployment_id: str,
    settings: dict[str, Any],
    exercise_slug: str,
    exercise_url: str,
) -> str:
    """The signed LtiDeepLinkingResponse that links the LMS to one exercise."""
    from pylti1p3.deep_link import DeepLink
    from pylti1p3.deep_link_resource import DeepLinkResource
    from pylti1p3.lineitem import LineItem

    exercise = session.scalars(select(Exercise).where(Exercise.slug == exercise_slug)).first()
    if exercise is None:
        raise Invalid(
            N_("The link names exercise “%(slug)s”, which does not exist."), slug=exercise_slug
        )
    platform = lti_platforms.get(session, platform_id)
    registration = lti_platforms.registration_for(session, platform)
    resource = (
        DeepLinkResource()
        .set_url(exercise_url)
        .set_title(exercise.title)
        .set_custom_params({"exercise": exercise.slug})
        .set_lineitem(
            LineItem()
            .set_score_maximum(100)
            .set_label(exercise.title)
            .set_resource_id(exercise.slug)
        )
    )
    token = DeepLink(registration, deployment_id, settings).get_response_jwt([resource])
    session.rollback()
    return token
