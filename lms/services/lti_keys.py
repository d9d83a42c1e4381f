"""Our LTI signing keys: RSA pairs kept in the database, rotated by an admin.

The newest unretired key signs (client assertions for grade services, deep-linking responses).
A rotation retires it and makes a new one; a retired key stays in the JWKS for a grace period so
a platform that cached our keys, or a token signed just before the rotation, still verifies.
Private keys never leave this module except to sign.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto.jwk import JWK
from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.database import begin_write
from lms.models.base import utcnow
from lms.models.lti import LtiKey
from lms.services import audit

KEY_BITS = 2048
# How long a retired key is still published (a platform caches JWKS for hours, not days).
GRACE_PERIOD = timedelta(days=2)


def _new_key() -> LtiKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    jwk = JWK.from_pem(pem.encode())
    kid = jwk.thumbprint()
    public = json.loads(jwk.export_public())
    public.update(kid=kid, alg="RS256", use="sig")
    return LtiKey(kid=kid, private_pem=pem, public_jwk=public)


def _current(session: Session) -> LtiKey | None:
    return session.scalars(
        select(LtiKey).where(LtiKey.retired_at.is_(None)).order_by(LtiKey.id.desc()).limit(1)
    ).first()


def signing_key(session: Session) -> LtiKey:
    """The key that signs now; the first call makes one (and commits it)."""
    key = _current(session)
    if key is None:
        begin_write(session)  # two first requests at once make one key, not two
        key = _current(session)
        if key is None:
            key = _new_key()
            session.add(key)
            session.commit()
    return key


def rotate(session: Session, actor_id: int | None) -> LtiKey:
    """Retire the signing key and make a new one; the retired one stays published for a while."""
    begin_write(session)
    now = utcnow()
    for old in session.scalars(select(LtiKey).where(LtiKey.retired_at.is_(None))):
        old.retired_at = now
    key = _new_key()
    session.add(key)
    session.flush()
    audit.record(session, "lti.key_rotated", actor_id, None, kid=key.kid)
    session.commit()
    return key


def published_keys(session: Session, now: datetime | None = None) -> list[LtiKey]:
    """The keys in our JWKS: the signing key and those retired less than GRACE_PERIOD ago."""
    signing_key(session)
    since = (now or utcnow()) - GRACE_PERIOD
    return list(
        session.scalars(
            select(LtiKey)
            .where(LtiKey.retired_at.is_(None) | (LtiKey.retired_at > since))
            .order_by(LtiKey.id.desc())
        )
    )


def jwks(session: Session) -> dict[str, list[dict]]:
    """The JSON Web Key Set platforms fetch: public halves only."""
    return {"keys": [dict(key.public_jwk) for key in published_keys(session)]}
