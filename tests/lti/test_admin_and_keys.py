"""The admin's LTI page: platforms registered in the browser, our keys and their rotation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.models.lti import LtiKey, LtiPlatform
from lms.services import lti_keys

PLATFORM = {
    "name": "Moodle of the centre",
    "issuer": "https://moodle.example.org",
    "client_id": "abc123",
    "auth_login_url": "https://moodle.example.org/mod/lti/auth.php",
    "auth_token_url": "https://moodle.example.org/mod/lti/token.php",
    "key_set_url": "https://moodle.example.org/mod/lti/certs.php",
    "deployment_ids": "1\n2, 2",
}


def _platforms(session) -> int:
    count = session.scalar(select(func.count()).select_from(LtiPlatform))
    session.rollback()
    return count


@pytest.fixture
def admin(auth, users):
    """The signed-in admin."""
    auth.login(users.admin)
    return auth


def test_an_admin_registers_a_platform_in_the_browser(client, admin, session) -> None:
    page = client.get("/admin/lti").get_data(as_text=True)
    assert "/lti/login" in page and "/lti/launch" in page and "/lti/jwks.json" in page
    response = admin.post("/admin/lti", PLATFORM)
    assert response.status_code == 303
    platform = session.scalars(select(LtiPlatform)).one()
    assert platform.deployment_ids == ["1", "2"] and platform.client_id == "abc123"
    platform_id = platform.id
    session.rollback()
    assert "Moodle of the centre" in client.get("/admin/lti").get_data(as_text=True)

    changed = dict(PLATFORM, deployment_ids="3")
    assert admin.post(f"/admin/lti/platforms/{platform_id}", changed).status_code == 303
    session.expire_all()
    deployments = session.get(LtiPlatform, platform_id).deployment_ids
    session.rollback()
    assert deployments == ["3"]
    assert admin.post(f"/admin/lti/platforms/{platform_id}/delete").status_code == 303
    assert _platforms(session) == 0


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"issuer": "moodle.example.org"}, "issuer must be a full http(s) URL"),
        ({"key_set_url": "javascript:alert(1)"}, "keyset URL must be a full"),
        ({"deployment_ids": " \n "}, "at least one deployment id"),
        ({"client_id": ""}, "client id is required"),
        ({"name": "x" * 121}, "name of 1 to 120"),
    ],
)
def test_bad_registrations_say_what_to_fix_and_store_nothing(
    client, admin, session, change, words
) -> None:
    response = admin.post("/admin/lti", dict(PLATFORM, **change))
    assert response.status_code == 400
    assert words in response.get_data(as_text=True)
    assert _platforms(session) == 0


def test_a_platform_is_registered_once(client, admin, session) -> None:
    admin.post("/admin/lti", PLATFORM)
    response = admin.post("/admin/lti", PLATFORM)
    assert response.status_code == 409 and "already registered" in response.get_data(as_text=True)
    assert _platforms(session) == 1


def test_the_page_speaks_french(client, admin) -> None:
    client.post("/language", data={"locale": "fr", "csrf_token": admin.token("/admin/lti")})
    page = client.get("/admin/lti").get_data(as_text=True)
    assert "Plateformes LMS (LTI 1.3)" in page and "Changer de clé de signature" in page
    response = admin.post("/admin/lti", dict(PLATFORM, issuer="nope"))
    assert "L'émetteur doit être une URL" in response.get_data(as_text=True).replace("&#39;", "'")


@pytest.mark.parametrize("who", ["trainee", "instructor", "recruiter"])
def test_only_admins_open_the_page(client, auth, users, session, who) -> None:
    auth.login(getattr(users, who))
    assert client.get("/admin/lti").status_code == 403
    assert auth.post("/admin/lti", PLATFORM).status_code == 403
    assert auth.post("/admin/lti/keys/rotate").status_code == 403
    assert _platforms(session) == 0


def test_anonymous_visitors_are_sent_to_sign_in(client) -> None:
    assert client.get("/admin/lti").status_code == 302


def test_the_jwks_serves_public_keys_only_and_rotation_keeps_the_old_one_a_while(
    client, admin, session
) -> None:
    first = client.get("/lti/jwks.json").json["keys"]
    assert len(first) == 1
    assert first[0]["kty"] == "RSA" and first[0]["alg"] == "RS256" and first[0]["use"] == "sig"
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(first[0])
    assert admin.post("/admin/lti/keys/rotate").status_code == 303
    keys = client.get("/lti/jwks.json").json["keys"]
    assert len(keys) == 2 and keys[1]["kid"] == first[0]["kid"]
    session.expire_all()
    signing = lti_keys.signing_key(session).kid
    session.rollback()
    assert signing == keys[0]["kid"] != first[0]["kid"]
    page = client.get("/admin/lti").get_data(as_text=True)
    assert "still published" in page and "BEGIN PRIVATE KEY" not in page

    # Past the grace period the retired key is no longer published.
    old = session.scalars(select(LtiKey).where(LtiKey.kid == first[0]["kid"])).one()
    old.retired_at = old.retired_at - lti_keys.GRACE_PERIOD - timedelta(minutes=1)
    session.commit()
    assert [k["kid"] for k in client.get("/lti/jwks.json").json["keys"]] == [keys[0]["kid"]]


def test_the_kid_we_sign_with_is_the_kid_we_publish(session) -> None:
    from lms.services.lti_platforms import registration_for

    platform = LtiPlatform(
        name="p",
        issuer="https://p.example",
        client_id="c",
        auth_login_url="https://p.example/a",
        auth_token_url="https://p.example/t",
        key_set_url="https://p.example/k",
        deployment_ids=["1"],
    )
    assert registration_for(session, platform).get_kid() == lti_keys.signing_key(session).kid
