"""Signing in through an organisation's OpenID Connect provider: a real provider on loopback
(tests/web/oidc_provider.py), our side unmocked. Every refusal says why and stores nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from joserfc.jwk import RSAKey
from sqlalchemy import func, select

from lms.extensions import db
from lms.models import ExternalIdentity, LoginAttempt, User, UserRole
from lms.models.audit import AuditEvent
from tests.conftest import make_test_app
from tests.web.oidc_provider import OidcProvider

CLIENT_ID = "atlas"
CLIENT_SECRET = "s3cret-of-the-client"
CALLBACK = "http://localhost/login/oidc/callback"


@pytest.fixture(scope="module")
def running_provider() -> Iterator[OidcProvider]:
    """One provider (and its RSA key) for the module; each test resets its behaviour."""
    provider = OidcProvider(CLIENT_ID, CLIENT_SECRET, CALLBACK)
    yield provider
    provider.stop()


@pytest.fixture
def provider(running_provider: OidcProvider) -> OidcProvider:
    """The provider, well-behaved, signing in trainee@example.org (verified)."""
    running_provider.reset()
    return running_provider


def oidc_config(issuer: str, **policy: object) -> dict[str, object]:
    """The OIDC_* config keys for a provider at `issuer`."""
    return {
        "OIDC_ISSUER": issuer,
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_NAME": "Example SSO",
        **{f"OIDC_{k.upper()}": v for k, v in policy.items()},
    }


@pytest.fixture
def app(tmp_path, provider: OidcProvider):
    """The application with OpenID Connect sign-in through `provider` (accounts not created)."""
    application = make_test_app(tmp_path, **oidc_config(provider.url))
    yield application
    db.engine_for(application).dispose()


def at_provider(client, start_path: str = "/login/oidc"):
    """Start a sign-in, let the provider answer; returns the callback path with its query."""
    start = client.get(start_path)
    assert start.status_code == 302, start.get_data(as_text=True)
    answer = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    back = urlsplit(answer.headers["Location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == CALLBACK
    return f"{back.path}?{back.query}"


def sign_in(client, start_path: str = "/login/oidc"):
    """The whole round trip; returns our callback's response."""
    return client.get(at_provider(client, start_path))


def stored(session) -> dict[str, object]:
    """Everything a sign-in could change."""
    session.rollback()
    counts = {
        model.__name__: session.scalar(select(func.count()).select_from(model))
        for model in (User, ExternalIdentity, LoginAttempt, AuditEvent)
    }
    users = session.execute(select(User.id, User.email, User.role, User.active)).all()
    session.rollback()
    return {**counts, "users": sorted(users)}


def signed_in_as(client) -> str | None:
    """The e-mail shown for the signed-in user, None when signed out."""
    page = client.get("/account/password")
    if page.status_code != 200:
        return None
    return page.get_data(as_text=True)


def refused(response, status: int, text: str) -> None:
    body = response.get_data(as_text=True)
    assert response.status_code == status, body
    assert text in body, body
    assert "Sign in with Example SSO" in body  # back on the sign-in page, ready to try again


# --- the feature, on and off ---------------------------------------------------------------


def test_sign_in_page_offers_the_provider(client) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert "Sign in with Example SSO" in page and 'href="/login/oidc"' in page


def test_off_when_not_configured(tmp_path, app_factory) -> None:
    client = app_factory().test_client()
    assert "Sign in with" not in client.get("/login").get_data(as_text=True)
    assert client.get("/login/oidc").status_code == 404
    assert client.get("/login/oidc/callback?code=x&state=y").status_code == 404


def test_french_button_and_refusal(client, session) -> None:
    headers = {"Accept-Language": "fr"}
    page = client.get("/login", headers=headers).get_data(as_text=True)
    assert "Se connecter avec Example SSO" in page
    before = stored(session)
    response = client.get("/login/oidc/callback?code=x&state=y", headers=headers)
    assert response.status_code == 400
    assert "Recommencez avec le bouton" in response.get_data(as_text=True)
    assert stored(session) == before


# --- the happy paths -----------------------------------------------------------------------


def test_links_a_trainee_by_verified_email_and_signs_in(client, session, users) -> None:
    response = sign_in(client, "/login/oidc?next=/courses/x")
    assert response.status_code == 302 and response.headers["Location"] == "/courses/x"
    assert users.trainee in signed_in_as(client)
    user = session.scalar(select(User).where(User.email == users.trainee))
    identity = session.scalar(select(ExternalIdentity))
    assert (identity.user_id, identity.subject) == (user.id, "user-1")
    actions = session.scalars(select(AuditEvent.action)).all()
    assert actions == ["account.oidc_link"]
    attempt = session.scalar(select(LoginAttempt))
    assert attempt.succeeded and attempt.user_id == user.id


def test_my_data_lists_the_linked_identity(client, session, users, provider) -> None:
    assert sign_in(client).status_code == 302
    data = client.get("/skills/my-data.json").get_json()
    (identity,) = data["account"]["identities"]
    assert (identity["issuer"], identity["subject"]) == (provider.url, "user-1")


def test_the_linked_identity_signs_in_even_after_its_email_changes(
    client, session, users, provider
) -> None:
    assert sign_in(client).status_code == 302
    client.post("/logout", data={"csrf_token": _token(client)})
    provider.behaviour.email = "renamed@example.org"
    assert sign_in(client).status_code == 302
    assert users.trainee in signed_in_as(client)
    assert session.scalar(select(func.count()).select_from(ExternalIdentity)) == 1


def test_creates_a_trainee_when_the_policy_says_so(tmp_path, provider, app_factory) -> None:
    app = app_factory(**oidc_config(provider.url, create_accounts="trainee"))
    client = app.test_client()
    provider.behaviour.email = "New.Person@Example.org"
    assert sign_in(client).status_code == 302
    with db.sessionmaker_for(app)() as session:
        user = session.scalar(select(User).where(User.email == "new.person@example.org"))
        assert user.role == UserRole.TRAINEE and user.display_name == "Test Person"
        assert session.scalars(select(AuditEvent.action)).all() == ["account.oidc_create"]
    assert client.get("/learn").status_code == 200
    # No password works for it: the account has none until someone sets one.
    assert user.password_hash.startswith("!")


def test_email_from_userinfo_when_the_id_token_lacks_it(client, session, users, provider) -> None:
    provider.behaviour.email_in_id_token = False
    assert sign_in(client).status_code == 302
    assert users.trainee in signed_in_as(client)


def test_sign_in_uses_the_password_session_path(client, session, users) -> None:
    # The same session machinery as a password sign-in: "sign out" ends it even if replayed.
    assert sign_in(client).status_code == 302
    cookie = client.get_cookie("session").value
    client.post("/logout", data={"csrf_token": _token(client)})
    client.set_cookie("session", cookie)
    assert client.get("/learn").status_code == 302


def _token(client) -> str:
    from tests.conftest import csrf_token_from

    return csrf_token_from(client.get("/account/password").get_data(as_text=True))


# --- refusals: each says why and stores nothing --------------------------------------------


def test_denied_consent(client, auth, session, users, provider) -> None:
    provider.behaviour.deny = True
    before = stored(session)
    response = sign_in(client)
    refused(response, 403, "You declined to sign in at Example SSO")
    assert stored(session) == before and signed_in_as(client) is None
    # The password form on that page still signs in (it posts to /login, not to the callback).
    assert 'action="/login"' in response.get_data(as_text=True)
    assert auth.login(users.trainee).status_code == 302


def test_replayed_state_is_refused(client, session, users, provider) -> None:
    callback = at_provider(client)
    assert client.get(callback).status_code == 302
    client.post("/logout", data={"csrf_token": _token(client)})
    before = stored(session)
    refused(client.get(callback), 400, "This sign-in is stale or was already used")
    assert stored(session) == before and signed_in_as(client) is None


def test_replayed_cookie_and_answer_are_refused_by_the_single_use_code(
    client, session, users
) -> None:
    # The attacker kept the cookie from before the answer: the state matches, the code is spent.
    callback = at_provider(client)
    cookie = client.get_cookie("session").value
    assert client.get(callback).status_code == 302
    client.post("/logout", data={"csrf_token": _token(client)})
    client.set_cookie("session", cookie)
    before = stored(session)
    refused(client.get(callback), 400, "could not be verified")
    assert stored(session) == before and signed_in_as(client) is None


def test_stale_pending_sign_in_is_refused(client, session, users, monkeypatch) -> None:
    callback = at_provider(client)
    later = time.time() + 11 * 60
    monkeypatch.setattr("lms.services.oidc_protocol.time.time", lambda: later)
    refused(client.get(callback), 400, "stale")


@pytest.mark.parametrize(
    ("setting", "value", "reason"),
    [
        ("nonce", "another-nonce", "'nonce'"),
        ("audience", "someone-else", "'aud'"),
        ("lifetime_seconds", -600, "ExpiredTokenError"),
        ("issuer", "https://attacker.example", "'iss'"),
        ("signing_key", "other", "BadSignatureError"),
    ],
)
def test_an_id_token_that_does_not_hold_is_refused(
    client, session, users, provider, caplog, setting: str, value: object, reason: str
) -> None:
    if value == "other":
        value = RSAKey.generate_key(2048, parameters={"kid": "test-key"})  # same kid, other key
    setattr(provider.behaviour, setting, value)
    before = stored(session)
    with caplog.at_level("WARNING", logger="lms.services.oidc_protocol"):
        refused(sign_in(client), 400, "The answer from Example SSO could not be verified")
    assert reason in caplog.text  # refused for this reason, not another
    assert stored(session) == before and signed_in_as(client) is None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(claims: dict) -> str:
    header = _b64(json.dumps({"alg": "none"}).encode())
    return f"{header}.{_b64(json.dumps(claims).encode())}."


def _hs256_with_the_public_key(provider: OidcProvider):
    # The classic confusion: an HMAC keyed with the provider's public key, which anyone has
    # (made by hand: joserfc itself refuses to use a public key as an HMAC secret).
    public = provider.key.as_pem(private=False)

    def forge(claims: dict) -> str:
        header = _b64(json.dumps({"alg": "HS256", "kid": "test-key"}).encode())
        signing_input = f"{header}.{_b64(json.dumps(claims).encode())}"
        mac = hmac.new(public, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{_b64(mac)}"

    return forge


@pytest.mark.parametrize("forgery", ["none", "hs256"])
def test_unsigned_or_hmac_tokens_are_refused(
    client, session, users, provider, caplog, forgery: str
) -> None:
    provider.behaviour.forge = (
        _unsigned if forgery == "none" else _hs256_with_the_public_key(provider)
    )
    provider.behaviour.email = users.trainee
    before = stored(session)
    with caplog.at_level("WARNING", logger="lms.services.oidc_protocol"):
        refused(sign_in(client), 400, "could not be verified")
    assert "id_token" in caplog.text
    assert stored(session) == before and signed_in_as(client) is None


def test_a_discovery_document_naming_another_issuer_is_refused(client, provider) -> None:
    provider.behaviour.metadata_issuer = "https://attacker.example"
    refused(client.get("/login/oidc"), 400, "could not be verified")


def test_userinfo_about_another_subject_is_refused(client, session, users, provider) -> None:
    provider.behaviour.email_in_id_token = False
    provider.behaviour.userinfo_subject = "someone-else"
    before = stored(session)
    refused(sign_in(client), 400, "could not be verified")
    assert stored(session) == before


def test_unverified_email_is_not_matched(client, session, users, provider) -> None:
    provider.behaviour.email_verified = False
    before = stored(session)
    refused(sign_in(client), 403, "did not confirm your e-mail address")
    assert stored(session) == before and signed_in_as(client) is None


def test_no_account_and_creation_off(client, session, users, provider) -> None:
    provider.behaviour.email = "stranger@example.org"
    before = stored(session)
    refused(sign_in(client), 403, "There is no account for stranger@example.org here")
    assert stored(session) == before


@pytest.mark.parametrize("role", ["admin", "instructor", "recruiter"])
def test_a_staff_account_is_not_taken_over_by_email(
    client, session, users, provider, role: str
) -> None:
    provider.behaviour.email = getattr(users, role)
    before = stored(session)
    refused(sign_in(client), 403, "cannot be linked to Example SSO by signing in")
    assert stored(session) == before and signed_in_as(client) is None


def test_staff_accounts_link_when_the_policy_says_all(provider, app_factory, users) -> None:
    del users  # the users fixture fills the default app's database, not this one
    app = app_factory(**oidc_config(provider.url, link_accounts="all"))
    with db.sessionmaker_for(app)() as session:
        session.add(User(email="boss@example.org", role=UserRole.ADMIN, password_hash="!x"))
        session.commit()
    provider.behaviour.email = "boss@example.org"
    client = app.test_client()
    assert sign_in(client).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_disabled_account_cannot_sign_in(client, session, users) -> None:
    assert sign_in(client).status_code == 302  # linked
    client.post("/logout", data={"csrf_token": _token(client)})
    user = session.scalar(select(User).where(User.email == users.trainee))
    user.active = False
    session.commit()
    before = stored(session)
    refused(sign_in(client), 403, "This account is disabled")
    assert stored(session) == before and signed_in_as(client) is None


def test_email_domains_policy(provider, app_factory) -> None:
    app = app_factory(**oidc_config(provider.url, create_accounts="trainee"))
    app.config["OIDC_EMAIL_DOMAINS"] = ("corp.example",)
    provider.behaviour.email = "someone@gmail.example"
    response = sign_in(app.test_client())
    refused(response, 403, "Addresses at gmail.example cannot sign in here")


def test_a_second_identity_cannot_take_a_linked_account(client, session, users, provider) -> None:
    assert sign_in(client).status_code == 302
    client.post("/logout", data={"csrf_token": _token(client)})
    provider.behaviour.subject = "someone-else"  # same verified e-mail, another person there
    before = stored(session)
    refused(sign_in(client), 403, "is linked to another identity at Example SSO")
    assert stored(session) == before


def test_provider_down_before_the_redirect(tmp_path, app_factory, session) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    client = app_factory(**oidc_config(closed)).test_client()
    refused(client.get("/login/oidc"), 502, "Example SSO cannot be reached right now")


def test_provider_down_during_the_answer(tmp_path, app_factory, users) -> None:
    down = OidcProvider(CLIENT_ID, CLIENT_SECRET, CALLBACK)
    app = app_factory(**oidc_config(down.url))
    client = app.test_client()
    callback = at_provider(client)
    down.stop()
    response = client.get(callback)
    refused(response, 502, "Example SSO cannot be reached right now")
    with db.sessionmaker_for(app)() as session:
        assert session.scalar(select(func.count()).select_from(ExternalIdentity)) == 0


# --- an adversary --------------------------------------------------------------------------


def test_a_forged_id_token_in_the_callback_is_ignored(client, session, users, provider) -> None:
    # The attacker starts a sign-in in their own browser and answers it themselves with an ID
    # token they signed for the victim: the flow takes tokens only from the token endpoint.
    start = client.get("/login/oidc")
    state = parse_qs(urlsplit(start.headers["Location"]).query)["state"][0]
    attacker_key = RSAKey.generate_key(2048, parameters={"kid": "test-key"})
    now = int(time.time())
    forged = provider.id_token(
        {
            "iss": provider.url,
            "aud": CLIENT_ID,
            "sub": "user-1",
            "email": users.admin,
            "email_verified": True,
            "iat": now,
            "exp": now + 300,
        },
        attacker_key,
    )
    before = stored(session)
    response = client.get(f"/login/oidc/callback?state={state}&code=made-up&id_token={forged}")
    refused(response, 400, "could not be verified")
    assert stored(session) == before and signed_in_as(client) is None


def test_an_attackers_answer_does_not_sign_the_victim_in(client, session, users, app) -> None:
    # Login CSRF: the attacker's own valid answer, opened in the victim's browser.
    attacker = app.test_client()
    callback = at_provider(attacker)
    before = stored(session)
    refused(client.get(callback), 400, "stale or was already used")
    assert stored(session) == before and signed_in_as(client) is None


def test_an_attackers_provider_is_not_trusted(client, session, users) -> None:
    # A provider of the attacker's, with its own keys and issuer, signs in "the trainee": its
    # answer reaches our callback with our state, but its code means nothing to our provider.
    rogue = OidcProvider(CLIENT_ID, CLIENT_SECRET, CALLBACK)
    try:
        start = client.get("/login/oidc")
        query = urlsplit(start.headers["Location"]).query
        answer = requests.get(f"{rogue.url}/authorize?{query}", allow_redirects=False, timeout=10)
        back = urlsplit(answer.headers["Location"])
        before = stored(session)
        refused(client.get(f"{back.path}?{back.query}"), 400, "could not be verified")
        assert stored(session) == before and signed_in_as(client) is None
        assert rogue.token_requests == 0  # our side never even spoke to it
    finally:
        rogue.stop()


def test_the_provider_checks_our_pkce_and_secret(provider, client, users) -> None:
    # The peer is real: it refuses a token request without the verifier or the secret.
    callback = at_provider(client)
    code = parse_qs(urlsplit(callback).query)["code"][0]
    without_verifier = requests.post(
        f"{provider.url}/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK},
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=10,
    )
    assert without_verifier.status_code == 400
    wrong_secret = requests.post(
        f"{provider.url}/token", data={"code": code}, auth=(CLIENT_ID, "guess"), timeout=10
    )
    assert wrong_secret.status_code == 401


def test_the_migration_adds_and_removes_the_table(tmp_path) -> None:
    from alembic import command
    from sqlalchemy import inspect

    from lms.extensions import make_engine
    from lms.migrations import alembic_config

    url = f"sqlite:///{tmp_path / 'migrated.sqlite'}"
    command.upgrade(alembic_config(url), "head")
    command.downgrade(alembic_config(url), "0006_accounts")
    engine = make_engine(url)
    assert "external_identities" not in inspect(engine).get_table_names()
    command.upgrade(alembic_config(url), "head")
    assert "external_identities" in inspect(engine).get_table_names()
    engine.dispose()


def test_deleting_the_account_forgets_the_identity(client, session, users, provider) -> None:
    from lms.services import accounts

    assert sign_in(client).status_code == 302
    client.post("/logout", data={"csrf_token": _token(client)})
    admin = session.scalar(select(User.id).where(User.email == users.admin))
    trainee = session.scalar(select(User.id).where(User.email == users.trainee))
    accounts.delete_account(session, trainee, admin)
    assert session.scalar(select(func.count()).select_from(ExternalIdentity)) == 0
    # The same person at the provider is a stranger now (creation is off).
    refused(sign_in(client), 403, "There is no account for trainee@example.org here")


# --- the settings --------------------------------------------------------------------------

OIDC_ENV = {
    "LMS_OIDC_ISSUER": "https://login.example.org/realms/staff/",
    "LMS_OIDC_CLIENT_ID": "atlas",
    "LMS_OIDC_CLIENT_SECRET": "secret",
}


def test_settings_from_the_environment() -> None:
    from lms.config import Settings

    assert Settings.from_env({}).flask_config()["OIDC_ISSUER"] is None  # off by default
    config = Settings.from_env(
        {
            **OIDC_ENV,
            "LMS_OIDC_NAME": "Staff SSO",
            "LMS_OIDC_CREATE_ACCOUNTS": "trainee",
            "LMS_OIDC_EMAIL_DOMAINS": "Corp.example, @lab.example",
        }
    ).flask_config()
    assert config["OIDC_ISSUER"] == "https://login.example.org/realms/staff"
    assert config["OIDC_CREATE_ACCOUNTS"] == "trainee"
    assert config["OIDC_LINK_ACCOUNTS"] == "trainee"
    assert config["OIDC_EMAIL_DOMAINS"] == ("corp.example", "lab.example")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LMS_OIDC_ISSUER": "https://x.example"}, "missing: LMS_OIDC_CLIENT_ID"),
        ({**OIDC_ENV, "LMS_OIDC_ISSUER": "http://login.example.org"}, "must be the provider's"),
        ({**OIDC_ENV, "LMS_OIDC_CREATE_ACCOUNTS": "admin"}, "LMS_OIDC_CREATE_ACCOUNTS"),
        ({**OIDC_ENV, "LMS_OIDC_LINK_ACCOUNTS": "yes"}, "LMS_OIDC_LINK_ACCOUNTS"),
    ],
)
def test_bad_settings_are_named(env: dict[str, str], message: str) -> None:
    from lms.config import ConfigError, Settings

    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)
