"""A real LTI 1.3 platform for the tests: a Flask app served on a loopback thread.

It has its own RSA key and JWKS over HTTP, an OIDC authorisation endpoint that answers with an
RS256-signed id_token form-posted to the tool's launch URL, a token endpoint that verifies the
tool's client assertion against the tool's JWKS (fetched over HTTP), and an AGS score endpoint
that records what it receives. Tests change `claims_patch`, `sign_with` or `nonce_override` to
play a misbehaving or hostile platform.
"""

from __future__ import annotations

import html
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, abort, jsonify, redirect, request
from jwcrypto.jwk import JWK
from werkzeug.serving import make_server

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS = "https://purl.imsglobal.org/spec/lti-ags/"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
SCORE_SCOPE = AGS + "scope/score"
LINEITEM_SCOPE = AGS + "scope/lineitem"
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"


def new_rsa_key() -> tuple[str, dict[str, Any]]:
    """A private PEM and its public JWK (with a kid)."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    jwk = JWK.from_pem(pem.encode())
    public = json.loads(jwk.export_public())
    public.update(kid=jwk.thumbprint(), alg="RS256", use="sig")
    return pem, public


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """Serve a WSGI app on 127.0.0.1 (a free port) in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


class TestPlatform:
    """An LMS with one course, one tool registration and one line item per resource link."""

    __test__ = False  # not a test class

    def __init__(self) -> None:
        self.private_pem, self.public_jwk = new_rsa_key()
        self.client_id = "atlas-tool-" + secrets.token_hex(4)
        self.deployment_id = "deployment-1"
        self.url = ""  # set once served
        self.tool_login_url = self.tool_launch_url = self.tool_jwks_url = ""
        self.users: dict[str, dict[str, Any]] = {}
        self.scores: list[dict[str, Any]] = []
        self.tokens: dict[str, list[str]] = {}
        self.assertion_errors: list[str] = []
        self.deep_links: list[dict[str, Any]] = []
        # Hooks for hostile tests: change the signed claims, sign with another key, lie.
        self.claims_patch: Callable[[dict[str, Any]], None] | None = None
        self.sign_with: tuple[str, str] | None = None  # (private pem, kid)
        self.app = self._build()

    @property
    def issuer(self) -> str:
        """The platform's issuer (its base URL)."""
        return self.url

    def registration(self) -> dict[str, str]:
        """What an admin types into the tool to register this platform."""
        return {
            "name": "Test LMS",
            "issuer": self.issuer,
            "client_id": self.client_id,
            "auth_login_url": self.url + "/auth",
            "auth_token_url": self.url + "/token",
            "key_set_url": self.url + "/jwks",
            "deployment_ids": self.deployment_id,
        }

    def add_user(self, sub: str, role: str, name: str = "", status: str = "Active") -> None:
        """A user of the LMS's course."""
        self.users[sub] = {"role": role, "name": name or sub, "status": status}

    def launch_start_url(self, sub: str, exercise: str, link: str = "link-1") -> str:
        """Where the LMS's link sends the browser: the tool's login initiation."""
        return f"{self.url}/start?sub={sub}&exercise={exercise}&link={link}"

    def deep_link_start_url(self, sub: str) -> str:
        """Where "add an activity with this tool" sends the browser (a deep-linking request)."""
        return f"{self.url}/start?sub={sub}&exercise=&link=&deep_link=1"

    # -- the app ------------------------------------------------------------------------------

    def _build(self) -> Flask:
        app = Flask("test_lti_platform")
        app.add_url_rule("/jwks", view_func=lambda: jsonify(keys=[self.public_jwk]))
        app.add_url_rule("/start", view_func=self._start)
        app.add_url_rule("/auth", view_func=self._auth, methods=["GET", "POST"])
        app.add_url_rule("/token", view_func=self._token, methods=["POST"])
        app.add_url_rule("/memberships", view_func=self._memberships)
        app.add_url_rule("/deep-link-return", view_func=self._deep_link_return, methods=["POST"])
        app.add_url_rule(
            "/lineitems/<item>/lineitem/scores", view_func=self._score, methods=["POST"]
        )
        return app

    def _start(self):
        # Third-party initiated login (LTI 1.3 core, 5.1.1); the hint says who and what.
        hint = json.dumps(
            {
                "exercise": request.args["exercise"],
                "link": request.args["link"],
                "deep_link": bool(request.args.get("deep_link")),
            }
        )
        query = {
            "iss": self.issuer,
            "login_hint": request.args["sub"],
            "target_link_uri": f"{self.tool_launch_url}",
            "lti_message_hint": hint,
            "client_id": self.client_id,
            "lti_deployment_id": self.deployment_id,
        }
        return redirect(requests.Request("GET", self.tool_login_url, params=query).prepare().url)

    def _auth(self):
        args = request.values
        if args.get("client_id") != self.client_id or args.get("redirect_uri") != (
            self.tool_launch_url
        ):
            abort(400, "unknown client or redirect_uri")
        if (
            args.get("response_type") != "id_token"
            or args.get("scope") != "openid"
            or args.get("response_mode") != "form_post"
            or not args.get("nonce")
        ):
            abort(400, "not an LTI authentication request")
        sub = args.get("login_hint", "")
        if sub not in self.users:
            abort(403, "no such user")
        hint = json.loads(args.get("lti_message_hint") or "{}")
        claims = self._claims(sub, hint, args["nonce"])
        if self.claims_patch:
            self.claims_patch(claims)
        pem, kid = self.sign_with or (self.private_pem, self.public_jwk["kid"])
        token = jwt.encode(claims, pem, algorithm="RS256", headers={"kid": kid})
        fields = {"id_token": token, "state": args.get("state", "")}
        inputs = "".join(
            f'<input type="hidden" name="{k}" value="{html.escape(v)}">' for k, v in fields.items()
        )
        action = html.escape(args["redirect_uri"])
        return (
            f'<form id="launch" method="post" action="{action}">{inputs}</form>'
            '<script>document.getElementById("launch").submit()</script>'
        )

    def _claims(self, sub: str, hint: dict[str, Any], nonce: str) -> dict[str, Any]:
        if hint.get("deep_link"):
            return self._deep_link_claims(sub, nonce)
        now = int(time.time())
        user, link = self.users[sub], hint.get("link", "link-1")
        return {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": sub,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "name": user["name"],
            CLAIM + "message_type": "LtiResourceLinkRequest",
            CLAIM + "version": "1.3.0",
            CLAIM + "deployment_id": self.deployment_id,
            CLAIM + "target_link_uri": self.tool_launch_url,
            CLAIM + "resource_link": {"id": link},
            CLAIM + "roles": [user["role"]],
            CLAIM + "context": {"id": "course-1", "title": "Test course"},
            CLAIM + "custom": {"exercise": hint.get("exercise", "")},
            "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
                "context_memberships_url": self.url + "/memberships",
                "service_versions": ["2.0"],
            },
            AGS + "claim/endpoint": {
                "scope": [LINEITEM_SCOPE, SCORE_SCOPE],
                "lineitem": f"{self.url}/lineitems/{link}/lineitem",
                "lineitems": f"{self.url}/lineitems",
            },
        }

    def _deep_link_claims(self, sub: str, nonce: str) -> dict[str, Any]:
        now = int(time.time())
        return {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": sub,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "name": self.users[sub]["name"],
            CLAIM + "message_type": "LtiDeepLinkingRequest",
            CLAIM + "version": "1.3.0",
            CLAIM + "deployment_id": self.deployment_id,
            CLAIM + "roles": [self.users[sub]["role"]],
            CLAIM + "context": {"id": "course-1", "title": "Test course"},
            "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings": {
                "deep_link_return_url": self.url + "/deep-link-return",
                "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["window", "iframe"],
                "data": "opaque-platform-data",
            },
        }

    def _deep_link_return(self):
        # The tool's LtiDeepLinkingResponse, verified against the tool's JWKS over HTTP.
        token = request.form.get("JWT", "")
        kid = jwt.get_unverified_header(token)["kid"]
        keys = requests.get(self.tool_jwks_url, timeout=10).json()["keys"]
        key = next(k for k in keys if k["kid"] == kid)
        claims = jwt.decode(
            token,
            jwt.PyJWK(key).key,
            algorithms=["RS256"],
            audience=self.issuer,
            issuer=self.client_id,
        )
        self.deep_links.append(claims)
        return "linked"

    def _memberships(self):
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if NRPS_SCOPE not in self.tokens.get(token, []):
            return jsonify(error="invalid_token"), 401
        members = [
            {"user_id": sub, "roles": [u["role"]], "name": u["name"], "status": u["status"]}
            for sub, u in self.users.items()
        ]
        body = {
            "id": self.url + "/memberships",
            "context": {"id": "course-1", "title": "Test course"},
            "members": members,
        }
        return (
            body,
            200,
            {"Content-Type": "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"},
        )

    def _token(self):
        # Client credentials with a JWT assertion (RFC 7523), verified against the tool's JWKS.
        form = request.form
        if form.get("grant_type") != "client_credentials" or form.get("client_assertion_type") != (
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        ):
            return jsonify(error="unsupported_grant_type"), 400
        assertion = form.get("client_assertion", "")
        try:
            kid = jwt.get_unverified_header(assertion)["kid"]
            keys = requests.get(self.tool_jwks_url, timeout=10).json()["keys"]
            key = next(k for k in keys if k["kid"] == kid)
            public = jwt.PyJWK(key).key
            claims = jwt.decode(
                assertion,
                public,
                algorithms=["RS256"],
                audience=self.url + "/token",
                issuer=self.client_id,
                options={"require": ["exp", "iat", "jti", "sub"]},
            )
            if claims["sub"] != self.client_id:
                raise ValueError("sub is not the client id")
        except Exception as error:
            self.assertion_errors.append(repr(error))
            return jsonify(error="invalid_client", error_description=str(error)), 401
        token = secrets.token_urlsafe(24)
        self.tokens[token] = form.get("scope", "").split()
        return jsonify(access_token=token, token_type="Bearer", expires_in=3600)

    def _score(self, item: str):
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if SCORE_SCOPE not in self.tokens.get(token, []):
            return jsonify(error="invalid_token"), 401
        if request.mimetype != "application/vnd.ims.lis.v1.score+json":
            return jsonify(error="wrong content type"), 415
        self.scores.append({"lineitem": item, **request.get_json(force=True)})
        return "", 204
