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
