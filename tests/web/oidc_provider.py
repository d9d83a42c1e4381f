"""A small, real OpenID Connect provider for the tests, served over HTTP on a loopback port.

It speaks the authorization code flow as a provider must (discovery, /authorize, /token with
the client's secret and the PKCE verifier, single-use codes, RS256 ID tokens signed with a key
made at start, /jwks, /userinfo), and can be told to misbehave the ways a provider or an
attacker might: deny consent, sign with another key, name another issuer or audience, send
another nonce, an expired token, an unverified e-mail.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import Flask, abort, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server


@dataclass
class Behaviour:
    """What the provider does on the next sign-ins (reset by each test)."""

    subject: str = "user-1"
    email: str | None = "trainee@example.org"
    email_verified: bool = True
    name: str = "Test Person"
    deny: bool = False  # the person declines consent
    email_in_id_token: bool = True  # False: the e-mail comes from /userinfo only
    issuer: str | None = None  # the `iss` written in the token (None: the provider's own)
    audience: str | None = None  # the `aud` written in the token (None: the client's id)
    nonce: str | None = None  # the `nonce` written in the token (None: the one asked for)
    lifetime_seconds: int = 300  # negative: an expired token
    signing_key: RSAKey | None = None  # None: the key published in /jwks
    extra_claims: dict[str, Any] = field(default_factory=dict)
    # Makes the ID token from its claims instead of the published key (an "alg: none" one...).
    forge: Callable[[dict[str, Any]], str] | None = None
    metadata_issuer: str | None = None  # the issuer the discovery document names
    userinfo_subject: str | None = None  # the `sub` /userinfo answers with


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class OidcProvider:
    """The provider, running in a thread until `stop`; `url` is its issuer."""

    def __init__(self, client_id: str, client_secret: str, redirect_uri: str) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig"})
        self.behaviour = Behaviour()
        self.codes: dict[str, dict[str, Any]] = {}
        self.access_tokens: dict[str, dict[str, Any]] = {}
        self.token_requests = 0
        self.app = self._make_app()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Stop serving (the port then refuses connections)."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    def reset(self) -> None:
        """Back to a well-behaved provider with its default user."""
        self.behaviour = Behaviour()
        self.codes.clear()
        self.access_tokens.clear()
        self.token_requests = 0

    def id_token(self, claims: dict[str, Any], key: RSAKey | None = None) -> str:
        """An RS256 ID token with these claims (signed by `key`, else the published key)."""
        key = key or self.key
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)

    def claims(self, nonce: str) -> dict[str, Any]:
        """The ID token's claims for a sign-in that asked for `nonce`, as behaviour says."""
        b = self.behaviour
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": b.issuer or self.url,
            "sub": b.subject,
            "aud": b.audience or self.client_id,
            "iat": now,
            "exp": now + b.lifetime_seconds,
            "nonce": b.nonce or nonce,
            "name": b.name,
        }
        if b.email is not None and b.email_in_id_token:
            claims |= {"email": b.email, "email_verified": b.email_verified}
        return claims | b.extra_claims

    def _make_app(self) -> Flask:
        app = Flask("test_oidc_provider")

        @app.get("/.well-known/openid-configuration")
        def discovery():
            return jsonify(
                issuer=self.behaviour.metadata_issuer or self.url,
                authorization_endpoint=f"{self.url}/authorize",
                token_endpoint=f"{self.url}/token",
                jwks_uri=f"{self.url}/jwks",
                userinfo_endpoint=f"{self.url}/userinfo",
                response_types_supported=["code"],
                subject_types_supported=["public"],
                id_token_signing_alg_values_supported=["RS256"],
                code_challenge_methods_supported=["S256"],
                token_endpoint_auth_methods_supported=["client_secret_basic"],
            )

        @app.get("/authorize")
        def authorize():
            args = request.args
            if args.get("client_id") != self.client_id or args.get("redirect_uri") != (
                self.redirect_uri
            ):
                abort(400)  # never redirect to an unregistered address
            back = {"state": args.get("state", "")}
            if self.behaviour.deny:
                back["error"] = "access_denied"
            elif (
                args.get("response_type") != "code"
                or "openid" not in args.get("scope", "").split()
                or args.get("code_challenge_method") != "S256"
                or not args.get("code_challenge")
                or not args.get("nonce")
            ):
                back["error"] = "invalid_request"
            else:
                code = secrets.token_urlsafe(24)
                self.codes[code] = {
                    "challenge": args["code_challenge"],
                    "nonce": args["nonce"],
                    "redirect_uri": args["redirect_uri"],
                }
                back["code"] = code
            return redirect(f"{self.redirect_uri}?{urlencode(back)}")

        @app.post("/token")
        def token():
            self.token_requests += 1
            auth = request.authorization
            if (
                auth is None
                or auth.username != self.client_id
                or auth.password != self.client_secret
            ):
                return jsonify(error="invalid_client"), 401
            form = request.form
            grant = self.codes.pop(form.get("code", ""), None)  # a code works once
            if (
                form.get("grant_type") != "authorization_code"
                or grant is None
                or form.get("redirect_uri") != grant["redirect_uri"]
                or _s256(form.get("code_verifier", "")) != grant["challenge"]
            ):
                return jsonify(error="invalid_grant"), 400
            claims = self.claims(grant["nonce"])
            access = secrets.token_urlsafe(24)
            self.access_tokens[access] = {
                "sub": self.behaviour.userinfo_subject or self.behaviour.subject,
                "email": self.behaviour.email,
                "email_verified": self.behaviour.email_verified,
                "name": self.behaviour.name,
            }
            return jsonify(
                access_token=access,
                token_type="Bearer",
                expires_in=300,
                id_token=(
                    self.behaviour.forge(claims)
                    if self.behaviour.forge
                    else self.id_token(claims, self.behaviour.signing_key)
                ),
            )

        @app.get("/jwks")
        def jwks():
            return jsonify(keys=[self.key.as_dict(private=False)])

        @app.get("/userinfo")
        def userinfo():
            header = request.headers.get("Authorization", "")
            info = self.access_tokens.get(header.removeprefix("Bearer "))
            if info is None:
                return jsonify(error="invalid_token"), 401
            return jsonify({k: v for k, v in info.items() if v is not None})

        return app
