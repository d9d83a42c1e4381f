"""Open Badges 3.0 credentials: issued by staff to a trainee who completed a course or is ready
for a role, secured with VC-JOSE (a compact JWS, EdDSA over Ed25519, `typ: vc+jwt`), checked by
anyone (signature, issuer, revocation, the OB 3.0 schema), revoked by staff."""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from jwcrypto.jwk import JWK
from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.database import begin_write
from lms.errors import Conflict, Invalid, NotFound
from lms.i18n import N_
from lms.models import User, UserRole
from lms.models.base import utcnow
from lms.models.credentials import Credential, CredentialKey
from lms.services import audit, progress, role_readiness
from lms.services.ob3_schema import OB_CONTEXT, VC_CONTEXT, schema_errors

KINDS = ("course", "role")
MAX_JWS_LENGTH = 100_000


def issuer_key(session: Session) -> CredentialKey:
    """The issuer's Ed25519 key (made at the first issuance)."""
    key = session.scalars(select(CredentialKey).order_by(CredentialKey.id.desc())).first()
    if key is None:
        begin_write(session)
        key = session.scalars(select(CredentialKey).order_by(CredentialKey.id.desc())).first()
    if key is None:
        private = ed25519.Ed25519PrivateKey.generate()
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        jwk = JWK.from_pem(pem.encode())
        public = json.loads(jwk.export_public())
        public.update(kid=jwk.thumbprint(), alg="EdDSA", use="sig")
        key = CredentialKey(kid=public["kid"], private_pem=pem, public_jwk=public)
        session.add(key)
        session.commit()
    return key


def issuer_profile(base_url: str, key: CredentialKey) -> dict[str, Any]:
    """Our issuer Profile, with the public key that verifies our credentials."""
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": f"{base_url}/credentials/issuer",
        "type": ["Profile"],
        "name": "Atlas",
        "url": base_url,
        "publicKey": [dict(key.public_jwk)],
    }


def _achievement(session: Session, user_id: int, kind: str, slug: str) -> tuple[str, str]:
    """The achievement's name and criteria, once the trainee has earned it."""
    if kind == "course":
        found = next(
            (p for p in progress.dashboard(session, user_id) if p.course.slug == slug), None
        )
        if found is None:
            raise NotFound(N_("There is no course %(slug)s."), slug=slug)
        if not found.exercises_total or found.exercises_done < found.exercises_total:
            raise Conflict(
                N_("The trainee has done %(done)s of the %(total)s exercises of %(slug)s."),
                done=found.exercises_done,
                total=found.exercises_total,
                slug=slug,
            )
        return found.course.title, f"Completed every exercise of the course {found.course.title}."
    if kind == "role":
        readiness = role_readiness.trainee_readiness(session, user_id).get(slug)
        if readiness is None:
            raise NotFound(N_("There is no role %(slug)s."), slug=slug)
        if readiness.status != "ready":
            raise Conflict(
                N_("The trainee is not ready for %(slug)s yet (%(status)s)."),
                slug=slug,
                status=readiness.status,
            )
        return slug, f"Every critical skill of the role {slug} demonstrated with confidence."
    raise Invalid(N_("A credential is for a course or a role."))


def _document(
    base_url: str, credential_id: str, user: User, kind: str, slug: str, name: str, criteria: str
) -> dict[str, Any]:
    salt = secrets.token_hex(8)
    identity = "sha256$" + hashlib.sha256((user.email + salt).encode()).hexdigest()
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": f"{base_url}/credentials/{credential_id}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": f"{base_url}/credentials/issuer", "type": ["Profile"], "name": "Atlas"},
        "validFrom": utcnow().replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "name": name,
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityHash": identity,
                    "identityType": "emailAddress",
                    "hashed": True,
                    "salt": salt,
                }
            ],
            "achievement": {
                "id": f"{base_url}/credentials/achievements/{kind}/{slug}",
                "type": ["Achievement"],
                "name": name,
                "description": criteria,
                "achievementType": "Certificate" if kind == "course" else "Competency",
                "criteria": {"narrative": criteria},
            },
        },
        "credentialStatus": {
            "id": f"{base_url}/credentials/{credential_id}/status",
            "type": "AtlasRevocationStatus",
        },
    }


def issue(
    session: Session, email: str, kind: str, slug: str, issuer_id: int, base_url: str
) -> Credential:
    """Sign and store a credential for an earned achievement; refused (nothing stored) else."""
    user = session.scalars(select(User).where(User.email == (email or "").strip().lower())).first()
    if user is None or user.role is not UserRole.TRAINEE or not user.active:
        session.rollback()
        raise NotFound(N_("There is no trainee account %(email)s."), email=email or "–")
    user_id = user.id
    slug = (slug or "").strip()
    name, criteria = _achievement(session, user_id, kind, slug)
    key = issuer_key(session)
    credential_id = str(uuid.uuid4())
    document = _document(base_url, credential_id, user, kind, slug, name, criteria)
    errors = schema_errors(document)
    if errors:  # our own bug: never sign what the schema refuses
        raise RuntimeError(f"credential breaks the OB 3.0 schema: {errors}")
    token = jwt.encode(
        document,
        key.private_pem,
        algorithm="EdDSA",
        headers={"kid": f"{base_url}/credentials/issuer#{key.kid}", "typ": "vc+jwt", "cty": "vc"},
    )
    begin_write(session)
    credential = Credential(
        id=credential_id,
        user_id=user_id,
        kind=kind,
        subject_slug=slug,
        achievement_name=name,
        issued_by_id=issuer_id,
        jws=token,
    )
    session.add(credential)
    session.flush()
    audit.record(session, "credential.issued", issuer_id, user_id, credential=credential_id)
    session.commit()
    return credential


def revoke(session: Session, credential_id: str, actor_id: int, reason: str) -> Credential:
    """Revoke a credential: verification says so from now on."""
    begin_write(session)
    credential = session.get(Credential, credential_id)
    if credential is None:
        session.rollback()
        raise NotFound(N_("There is no such credential."))
    if credential.revoked_at is not None:
        session.rollback()
        raise Conflict(N_("This credential is already revoked."))
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        session.rollback()
        raise Invalid(N_("Say why the credential is revoked (up to 500 characters)."))
    credential.revoked_at, credential.revoked_reason = utcnow(), reason
    audit.record(
        session, "credential.revoked", actor_id, credential.user_id, credential=credential_id
    )
    session.commit()
    return credential


@dataclass
class Verification:
    """What checking a credential found: valid only when every check passed."""

    checks: dict[str, bool] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    document: dict[str, Any] | None = None
    credential: Credential | None = None

    @property
    def valid(self) -> bool:
        """Signature, issuer, schema and status all good."""
        return bool(self.checks) and all(self.checks.values()) and not self.problems

    def as_json(self) -> dict[str, Any]:
        """The verification endpoint's answer."""
        return {
            "valid": self.valid,
            "checks": self.checks,
            "problems": self.problems,
            "revoked": bool(self.credential and self.credential.revoked_at),
            "credential": self.document,
        }


def verify(session: Session, token: str, base_url: str) -> Verification:
    """Check a VC-JOSE credential: our signature, our issuer, the OB 3.0 schema, not revoked."""
    result = Verification()
    token = (token or "").strip()
    if not token or len(token) > MAX_JWS_LENGTH:
        result.problems.append("not a credential: give the compact JWS (vc+jwt)")
        return result
    key = issuer_key(session)
    try:
        header = jwt.get_unverified_header(token)
        document = jwt.decode(
            token,
            JWK(**key.public_jwk).export_to_pem(),
            algorithms=["EdDSA"],
            options={"verify_exp": False, "verify_aud": False},
        )
        result.checks["signature"] = header.get("typ") == "vc+jwt"
    except (jwt.InvalidTokenError, ValueError) as error:
        result.checks["signature"] = False
        result.problems.append(f"signature: {error}")
        session.rollback()
        return result
    result.document = document
    issuer = document.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    result.checks["issuer"] = issuer_id == f"{base_url}/credentials/issuer"
    errors = schema_errors(document)
    result.checks["schema"] = not errors
    result.problems.extend(f"schema: {e}" for e in errors)
    credential_id = str(document.get("id", "")).rsplit("/", 1)[-1]
    credential = session.get(Credential, credential_id)
    result.credential = credential
    result.checks["known"] = credential is not None and credential.jws == token
    result.checks["not_revoked"] = credential is not None and credential.revoked_at is None
    if credential is not None and credential.revoked_at is not None:
        result.problems.append(f"revoked: {credential.revoked_reason}")
    session.rollback()
    return result


def get(session: Session, credential_id: str) -> Credential | None:
    """A credential by its id."""
    return session.get(Credential, credential_id)


def of_trainee(session: Session, user_id: int) -> list[Credential]:
    """A trainee's credentials, newest first."""
    return list(
        session.scalars(
            select(Credential)
            .where(Credential.user_id == user_id)
            .order_by(Credential.issued_at.desc())
        )
    )


def issued(session: Session) -> list[Credential]:
    """Every credential issued, newest first."""
    return list(session.scalars(select(Credential).order_by(Credential.issued_at.desc())))


def baked_svg(credential: Credential, verify_url: str) -> str:
    """The badge as an SVG image with the credential baked in (OB 3.0 baking: an
    `openbadges:credential` element holding the JWS)."""
    from xml.sax.saxutils import escape, quoteattr

    name = escape(credential.achievement_name)
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" '
        'xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0" width="240" height="240" '
        'viewBox="0 0 240 240">'
        f"<openbadges:credential verify={quoteattr(verify_url)}>"
        f"<![CDATA[{credential.jws}]]></openbadges:credential>"
        '<circle cx="120" cy="120" r="110" fill="#1f4e79"/>'
        '<text x="120" y="112" font-family="sans-serif" font-size="22" fill="#fff" '
        'text-anchor="middle">Atlas</text>'
        f'<text x="120" y="142" font-family="sans-serif" font-size="13" fill="#fff" '
        f'text-anchor="middle">{name}</text></svg>'
    )
