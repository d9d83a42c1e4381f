"""Signing in and out, throttling, passwords, cookies, language."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from lms.errors import Conflict, Invalid
from lms.models import User
from lms.services import accounts


def test_sign_in_and_out(client, auth, users) -> None:
    response = auth.login(users.trainee)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/").headers["Location"] == "/learn"
    assert client.get("/learn").status_code == 200
    assert client.get("/logout").status_code == 405  # a link cannot sign anyone out
    assert auth.logout().status_code == 302
    assert client.get("/learn").status_code == 302


@pytest.mark.parametrize(
    ("role", "home"),
    [("instructor", "/instructor/"), ("recruiter", "/recruiter/"), ("admin", "/admin/")],
)
def test_each_role_lands_on_its_home(client, auth, users, role: str, home: str) -> None:
    auth.login(getattr(users, role))
    assert client.get("/").headers["Location"] == home
    assert client.get(home).status_code == 200


def test_wrong_password_is_401_with_a_message(client, auth, users) -> None:
    response = auth.login(users.trainee, "wrong password!")
    assert response.status_code == 401
    assert "Wrong e-mail or password" in response.get_data(as_text=True)
    assert auth.login("nobody@example.org").status_code == 401


def test_repeated_failures_are_throttled(app, client, auth, users) -> None:
    app.config["LOGIN_MAX_FAILURES"] = 3
    for _ in range(3):
        assert auth.login(users.trainee, "wrong password!").status_code == 401
    response = auth.login(users.trainee)  # even the right password waits
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.get_data(as_text=True)
    assert auth.login(users.admin).status_code == 302  # another account is not locked out


def test_next_parameter_cannot_redirect_off_site(client, auth, users) -> None:
    token = auth.token("/login")
    for target, expected in (
        ("/courses/x", "/courses/x"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
    ):
        response = client.post(
            f"/login?next={target}",
            data={"email": users.trainee, "password": "correct horse battery", "csrf_token": token},
        )
        assert response.headers["Location"] == expected
        auth.logout()
        token = auth.token("/login")


def test_change_password(client, auth, users) -> None:
    auth.login(users.trainee)
    bad = auth.post(
        "/account/password",
        {"current": "nope nope nope", "new": "a new password 1", "confirm": "a new password 1"},
    )
    assert bad.status_code == 400 and "current password is wrong" in bad.get_data(as_text=True)
    short = auth.post(
        "/account/password",
        {"current": "correct horse battery", "new": "short", "confirm": "short"},
    )
    assert short.status_code == 400
    ok = auth.post(
        "/account/password",
        {
            "current": "correct horse battery",
            "new": "a new password 1",
            "confirm": "a new password 1",
        },
    )
    assert ok.status_code == 302
    auth.logout()
    assert auth.login(users.trainee).status_code == 401
    assert auth.login(users.trainee, "a new password 1").status_code == 302


def test_cookies_are_secure_outside_tests(tmp_path: Path, monkeypatch) -> None:
    from lms import create_app

    monkeypatch.delenv("LMS_COOKIE_SECURE", raising=False)
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}", "SECRET_KEY": "k"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_session_cookie_flags(client) -> None:
    cookie = client.get("/login").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_secret_key_is_generated_once_with_mode_0600(tmp_path: Path, monkeypatch) -> None:
    from lms import create_app

    monkeypatch.delenv("LMS_SECRET_KEY", raising=False)
    config = {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}"}
    first = create_app(config).config["SECRET_KEY"]
    assert create_app(config).config["SECRET_KEY"] == first and len(first) >= 32
    key_file = tmp_path / "instance" / "secret_key"
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_language_follows_the_browser_then_the_choice(client, auth, users, session) -> None:
    page = client.get("/login", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert '<html lang="fr">' in page.get_data(as_text=True)
    auth.login(users.trainee)
    client.post("/language", data={"locale": "fr", "csrf_token": auth.token("/learn")})
    assert session.scalar(select(User.locale).where(User.email == users.trainee)) == "fr"
    session.rollback()
    html = client.get("/learn", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="fr">' in html


def test_create_user_validates(session) -> None:
    user, password = accounts.create_user(session, " New@Example.org ", "trainee")
    assert user.email == "new@example.org" and len(password) >= 12
    assert user.password_hash.startswith("scrypt:")
    with pytest.raises(Conflict, match="already exists"):
        accounts.create_user(session, "new@example.org", "trainee")
    with pytest.raises(Invalid, match="Unknown role"):
        accounts.create_user(session, "x@example.org", "wizard")
    with pytest.raises(Invalid, match="at least"):
        accounts.create_user(session, "y@example.org", "admin", "short")


# --- sessions end when they should (a signed cookie replayed afterwards opens nothing) ---------


def _cookie(client) -> str:
    return client.get_cookie("session").value


def _replay(app, cookie: str, path: str, addr: str = "203.0.113.9"):
    """The stolen cookie, sent from another client and another address."""
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief.get(path, environ_overrides={"REMOTE_ADDR": addr})


def test_a_cookie_replayed_after_sign_out_opens_nothing(app, client, auth, users, content) -> None:
    auth.login(users.trainee)
    stolen = _cookie(client)
    assert _replay(app, stolen, "/skills/my-data.json").status_code == 200  # the cookie works
    auth.logout()
    for addr in ("127.0.0.1", "203.0.113.9"):
        assert _replay(app, stolen, "/skills/my-data.json", addr).status_code == 401
        assert _replay(app, stolen, "/learn", addr).status_code == 302


def test_a_password_change_ends_the_other_sessions_but_not_this_one(
    app, client, auth, users
) -> None:
    auth.login(users.trainee)
    other_device = _cookie(client)
    auth.logout()
    auth.login(users.trainee)
    elsewhere = app.test_client()
    AuthActions = type(auth)
    AuthActions(elsewhere).login(users.trainee)
    elsewhere_cookie = _cookie(elsewhere)
    response = auth.post(
        "/account/password",
        {
            "current": "correct horse battery",
            "new": "a new password 1",
            "confirm": "a new password 1",
        },
    )
    assert response.status_code == 302
    assert client.get("/learn").status_code == 200  # this session carries on
    assert _replay(app, elsewhere_cookie, "/skills/my-data.json").status_code == 401
    assert _replay(app, other_device, "/learn").status_code == 302


def test_sign_out_everywhere(app, client, auth, users) -> None:
    auth.login(users.trainee)
    elsewhere = app.test_client()
    type(auth)(elsewhere).login(users.trainee)
    assert elsewhere.get("/learn").status_code == 200
    page = client.get("/account/password").get_data(as_text=True)
    assert "Sign out everywhere else" in page
    assert auth.post("/account/sessions").status_code == 303
    assert elsewhere.get("/learn").status_code == 302
    assert client.get("/learn").status_code == 200


def test_the_current_password_is_not_a_new_one(client, auth, users) -> None:
    auth.login(users.trainee)
    same = auth.post(
        "/account/password",
        {
            "current": "correct horse battery",
            "new": "correct horse battery",
            "confirm": "correct horse battery",
        },
    )
    assert same.status_code == 400 and "this is your current one" in same.get_data(as_text=True)


# --- throttling: growing delays per (account, address), never the owner locked out -----------


def _login_from(client, auth, email: str, password: str, addr: str):
    token = auth.token("/login")
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        environ_overrides={"REMOTE_ADDR": addr},
    )


def test_failures_elsewhere_never_lock_the_owner_out(app, client, auth, users) -> None:
    attacker = app.test_client()
    attacker_auth = type(auth)(attacker)
    for _ in range(5):
        assert (
            _login_from(
                attacker, attacker_auth, users.trainee, "wrong password!", "198.51.100.7"
            ).status_code
            == 401
        )
    refused = _login_from(
        attacker, attacker_auth, users.trainee, "correct horse battery", "198.51.100.7"
    )
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    # The owner, from their own address, with the right password: straight in.
    assert (
        _login_from(client, auth, users.trainee, "correct horse battery", "192.0.2.10").status_code
        == 302
    )


def test_delays_grow_with_each_failure(session, users) -> None:
    from datetime import timedelta

    from lms.models import LoginAttempt

    waits = []
    for _ in range(8):
        outcome = accounts.authenticate(
            session,
            users.trainee,
            "nope nope nope",
            "10.1.1.1",
            max_failures=2,
            window_seconds=3600,
        )
        if outcome.throttled:
            waits.append(outcome.retry_after_seconds)
            # Let the wait pass, as time would, so that the next try is checked and fails.
            for row in session.scalars(select(LoginAttempt)):
                row.at -= timedelta(seconds=outcome.retry_after_seconds + 1)
            session.commit()
    assert len(waits) >= 3 and waits == sorted(waits) and waits[-1] >= 2 * waits[0]


def test_one_address_cannot_try_many_accounts(session, users) -> None:
    for number in range(8):
        accounts.authenticate(
            session, f"guess{number}@example.org", "nope nope nope", "10.2.2.2", max_failures=2
        )
    outcome = accounts.authenticate(
        session, users.admin, "correct horse battery", "10.2.2.2", max_failures=2
    )
    assert outcome.throttled
    other = accounts.authenticate(
        session, users.admin, "correct horse battery", "10.3.3.3", max_failures=2
    )
    assert other.user is not None


def test_old_sign_in_records_are_pruned(session, users) -> None:
    from datetime import timedelta

    from lms.models import LoginAttempt, utcnow

    session.add(
        LoginAttempt(
            email="x@example.org",
            remote_addr="10.0.0.1",
            succeeded=False,
            at=utcnow() - timedelta(days=accounts.LOGIN_RECORD_DAYS + 1),
        )
    )
    session.commit()
    assert (
        accounts.authenticate(session, users.trainee, "correct horse battery", "10.0.0.2").user
        is not None
    )
    emails = session.scalars(select(LoginAttempt.email)).all()
    assert emails == [users.trainee]


# --- passwords are hashed with OWASP's scrypt parameters; old hashes still work --------------


def test_scrypt_parameters_and_rehash_on_sign_in(session, users) -> None:
    from werkzeug.security import generate_password_hash

    user = session.scalar(select(User).where(User.email == users.trainee))
    assert user.password_hash.startswith("scrypt:131072:8:1$")
    user.password_hash = generate_password_hash("correct horse battery", method="scrypt")
    session.commit()
    assert user.password_hash.startswith("scrypt:32768:8:1$")  # werkzeug's default: too cheap
    assert (
        accounts.authenticate(session, users.trainee, "correct horse battery", "10.0.0.3").user
        is not None
    )
    session.refresh(user)
    assert user.password_hash.startswith("scrypt:131072:8:1$")
    assert (
        accounts.authenticate(session, users.trainee, "correct horse battery", "10.0.0.3").user
        is not None
    )


# --- redirects after sign-in stay on the site --------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "/%09/127.0.0.1:5202/x",
        "/%0a/evil.example",
        "/%0d%0aSet-Cookie:x=1",
        "/\\evil.example",
        "///evil.example",
        "/%20/evil.example",
        "http:/evil.example",
    ],
)
def test_next_cannot_leave_the_site_or_break_the_header(client, auth, users, target) -> None:
    response = client.post(
        f"/login?next={target}",
        data={
            "email": users.trainee,
            "password": "correct horse battery",
            "csrf_token": auth.token("/login"),
        },
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"
