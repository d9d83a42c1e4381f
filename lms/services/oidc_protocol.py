"""The OpenID Connect authorization code flow, as a relying party.

`begin` makes the redirect to the provider (state, nonce and a PKCE verifier, which the caller
keeps in the browser's signed session); `finish` checks the provider's answer: the state, then
the code exchanged (client secret and verifier) for an ID token whose signature (RS256, a key of
the provider's JWKS), issuer, audience, expiry and nonce are verified. Authlib speaks OAuth 2;
joserfc, Authlib's JOSE library, verifies the token.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Mapping
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from lms.errors import Forbidden, Invalid, Unavailable
from lms.i18n import N_
from lms.services.accounts import normalise_email
from lms.services.oidc import Identity, Provider

log = logging.getLogger(__name__)

# The only signature we accept: a provider's key pair, published in its JWKS.
ALGORITHMS = ["RS256"]
# How long the browser may take at the provider before its answer is refused as stale.
PENDING_SECONDS = 10 * 60
CLOCK_LEEWAY_SECONDS = 60
HTTP_TIMEOUT_SECONDS = 10


def _unreachable(provider: Provider) -> Unavailable:
    return Unavailable(
        N_(
            "%(name)s cannot be reached right now. Try again in a few minutes, or sign in "
            "with your password."
        ),
        name=provider.name,
    )


def _unverifiable(provider: Provider, why: str) -> Invalid:
    log.warning("oidc: refused the answer of %s: %s", provider.issuer, why)
    return Invalid(
        N_(
            "The answer from %(name)s could not be verified, so you are not signed in. Start "
            "again; if it keeps happening, tell your administrator."
        ),
        name=provider.name,
    )


def _get_json(provider: Provider, url: str, **kwargs: Any) -> dict[str, Any]:
    try:
        response = requests.get(url, timeout=HTTP_TIMEOUT_SECONDS, **kwargs)
    except requests.RequestException as error:
        log.warning("oidc: %s unreachable: %s", url, error)
        raise _unreachable(provider) from None
    if response.status_code >= 500:
        raise _unreachable(provider)
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != 200 or not isinstance(body, dict):
        raise _unverifiable(provider, f"{url} answered {response.status_code}")
    return body


def discover(provider: Provider) -> dict[str, Any]:
    """The provider's metadata; its issuer must be the one configured (OIDC Discovery 4.3)."""
    metadata = _get_json(provider, f"{provider.issuer}/.well-known/openid-configuration")
    if metadata.get("issuer", "").rstrip("/") != provider.issuer:
        raise _unverifiable(provider, f"metadata names issuer {metadata.get('issuer')!r}")
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(metadata.get(key), str):
            raise _unverifiable(provider, f"metadata lacks {key}")
    return metadata


def _client(provider: Provider, redirect_uri: str) -> OAuth2Session:
    return OAuth2Session(
        provider.client_id,
        provider.client_secret,
        scope="openid email profile",
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        default_timeout=HTTP_TIMEOUT_SECONDS,
    )


def begin(provider: Provider, redirect_uri: str) -> tuple[str, dict[str, Any]]:
    """The provider's authorization URL, and what the caller keeps until the answer comes."""
    metadata = discover(provider)
    pending = {
        "state": secrets.token_urlsafe(32),
        "nonce": secrets.token_urlsafe(32),
        "verifier": secrets.token_urlsafe(48),
        "redirect_uri": redirect_uri,
        "at": int(time.time()),
    }
    with _client(provider, redirect_uri) as client:
        url, _state = client.create_authorization_url(
            metadata["authorization_endpoint"],
            state=pending["state"],
            code_verifier=pending["verifier"],
            nonce=pending["nonce"],
        )
    return url, pending


def finish(provider: Provider, pending: Any, answer: Mapping[str, str]) -> Identity:
    """Check the provider's answer to `begin` and return the person it vouches for."""
    state = answer.get("state", "")
    if (
        not isinstance(pending, dict)
        or not isinstance(pending.get("state"), str)
        or not secrets.compare_digest(state.encode(), pending["state"].encode())
        or int(time.time()) - int(pending.get("at", 0)) > PENDING_SECONDS
    ):
        raise Invalid(
            N_(
                "This sign-in is stale or was already used. Start again with the "
                "“Sign in with %(name)s” button."
            ),
            name=provider.name,
        )
    if answer.get("error"):
        if answer["error"] == "access_denied":
            raise Forbidden(
                N_(
                    "You declined to sign in at %(name)s. To sign in, accept there, or use "
                    "your password."
                ),
                name=provider.name,
            )
        raise Forbidden(
            N_("%(name)s refused the sign-in (%(error)s). Try again or ask your administrator."),
            name=provider.name,
            error=answer["error"][:100],
        )
    if not answer.get("code"):
        raise _unverifiable(provider, "no code in the answer")
    metadata = discover(provider)
    id_token, access_token = _exchange(provider, metadata, pending, answer["code"])
    claims = _verify(provider, metadata, id_token, pending["nonce"])
    if "email" not in claims and isinstance(metadata.get("userinfo_endpoint"), str):
        claims = _with_userinfo(provider, metadata, claims, access_token)
    email = claims.get("email")
    return Identity(
        issuer=provider.issuer,
        subject=claims["sub"],
        email=normalise_email(email) if isinstance(email, str) and email else None,
        email_verified=claims.get("email_verified") is True,
        name=str(claims.get("name") or "")[:120],
    )


def _exchange(
    provider: Provider, metadata: dict[str, Any], pending: dict[str, Any], code: str
) -> tuple[str, str | None]:
    """The code exchanged (with the client secret and the PKCE verifier) for the ID token and
    the access token (used for userinfo only, never stored)."""
    with _client(provider, pending["redirect_uri"]) as client:
        try:
            token = client.fetch_token(
                metadata["token_endpoint"],
                code=code[:2000],
                code_verifier=pending["verifier"],
            )
        except requests.RequestException as error:
            log.warning("oidc: token endpoint unreachable: %s", error)
            raise _unreachable(provider) from None
        except (AuthlibBaseError, ValueError) as error:
            raise _unverifiable(provider, f"token endpoint refused: {error}") from None
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise _unverifiable(provider, "no id_token")
    access_token = token.get("access_token")
    return id_token, access_token if isinstance(access_token, str) else None


def _verify(provider: Provider, metadata: dict[str, Any], id_token: str, nonce: str) -> dict:
    """The ID token's claims once its signature and claims hold (OIDC Core 3.1.3.7)."""
    keys = _get_json(provider, metadata["jwks_uri"])
    try:
        key_set = KeySet.import_key_set(keys)  # type: ignore[arg-type]
        token = jwt.decode(id_token, key_set, algorithms=ALGORITHMS)
        JWTClaimsRegistry(
            leeway=CLOCK_LEEWAY_SECONDS,
            iss={"essential": True, "value": provider.issuer},
            aud={"essential": True, "value": provider.client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        ).validate(token.claims)
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise _unverifiable(provider, f"id_token: {error!r}") from None
    claims = token.claims
    audience = claims["aud"]
    if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != provider.client_id:
        raise _unverifiable(provider, "several audiences and azp is not ours")
    if not isinstance(claims["sub"], str) or not 0 < len(claims["sub"]) <= 255:
        raise _unverifiable(provider, "sub is not a string of at most 255 characters")
    return claims


def _with_userinfo(
    provider: Provider, metadata: dict[str, Any], claims: dict, access_token: str | None
) -> dict:
    """Claims completed by the userinfo endpoint (its `sub` must be the ID token's)."""
    info = _get_json(
        provider,
        metadata["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {access_token}"} if access_token else {},
    )
    if info.get("sub") != claims["sub"]:
        raise _unverifiable(provider, "userinfo is about another subject")
    return {**info, **claims}
