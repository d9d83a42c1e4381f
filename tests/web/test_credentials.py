"""Open Badges 3.0: issuance to a trainee who earned it, verification (signature, issuer,
schema, revocation) by anyone, downloads for the owner, revocation by staff."""

from __future__ import annotations

import json
import re
import secrets

import jwt
import pytest
from sqlalchemy import func, select

from lms.models import SubmissionPurpose, User
from lms.models.credentials import Credential
from lms.services import submissions
from lms.services.ob3_schema import schema_errors

RIGHT = {
    "squares": "def squares(n):\n    return [i * i for i in range(n)]",
    "total": "def total(path):\n    return sum(int(x) for x in open(path).read().split())",
}


def _count(session) -> int:
    n = session.scalar(select(func.count()).select_from(Credential))
    session.rollback()
    return n


@pytest.fixture
def completed(session, users, content, run_jobs):
    """The trainee has done every exercise of the course "intro"."""
    exercise = submissions.get_exercise(session, "squares")
    user_id = session.scalar(select(User.id).where(User.email == users.trainee))
    submissions.submit(
        session,
        user_id=user_id,
        exercise_slug="squares",
        notebook=submissions.notebook_from_answers(session, exercise, RIGHT),
        name="squares.ipynb",
        origin="browser",
        purpose=SubmissionPurpose.GRADE,
        token=secrets.token_hex(16),
    )
    assert run_jobs() == 1
    return users


def _issue(auth, email: str, kind: str = "course", slug: str = "intro"):
    return auth.post("/credentials/issue", {"email": email, "kind": kind, "slug": slug})


def _issued_id(session) -> str:
    found = session.scalars(select(Credential.id)).one()
    session.rollback()
    return found


def test_issue_verify_download_and_revoke(client, auth, completed, session) -> None:
    auth.login(completed.instructor)
    response = _issue(auth, completed.trainee)
    assert response.status_code == 303, response.get_data(as_text=True)
    credential_id = _issued_id(session)
    page = client.get(f"/credentials/{credential_id}").get_data(as_text=True)
    assert "Valid: issued by Atlas" in page and completed.trainee not in page

    token = session.get(Credential, credential_id).jws
    session.rollback()
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "EdDSA" and header["typ"] == "vc+jwt"
    checked = client.post("/credentials/verify", data={"credential": token}).json
    assert checked["valid"] is True and all(checked["checks"].values())
    document = checked["credential"]
    assert schema_errors(document) == []
    assert document["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert document["credentialSubject"]["achievement"]["name"] == "Introduction"
    # The public key that verifies it is on the issuer profile, never the private one.
    profile = client.get("/credentials/issuer").json
    key = profile["publicKey"][0]
    assert key["kty"] == "OKP" and key["crv"] == "Ed25519" and "d" not in key
    assert jwt.decode(token, jwt.PyJWK(key).key, algorithms=["EdDSA"])["id"] == document["id"]

    # The trainee downloads it as JSON and as a baked badge; another trainee cannot.
    auth.logout()
    auth.login(completed.trainee)
    assert credential_id in client.get("/credentials/mine").get_data(as_text=True)
    downloaded = json.loads(client.get(f"/credentials/{credential_id}/credential.json").data)
    assert downloaded["jwt"] == token and downloaded["credential"]["id"] == document["id"]
    svg = client.get(f"/credentials/{credential_id}/badge.svg").get_data(as_text=True)
    assert re.search(
        r"<openbadges:credential verify=\"[^\"]+\"><!\[CDATA\[" + re.escape(token), svg
    )
    auth.logout()
    auth.login(completed.other_trainee)
    assert client.get(f"/credentials/{credential_id}/credential.json").status_code == 404

    # Revoked: the verification says so, on the page and the endpoint.
    auth.logout()
    auth.login(completed.instructor)
    assert (
        auth.post(f"/credentials/{credential_id}/revoke", {"reason": "copied work"}).status_code
        == 303
    )
    checked = client.post("/credentials/verify", data={"credential": token}).json
    assert checked["valid"] is False and checked["revoked"] is True
    assert "revoked: copied work" in checked["problems"]
    assert client.get(f"/credentials/{credential_id}/status").json["revoked"] is True
    assert "Revoked on" in client.get(f"/credentials/{credential_id}").get_data(as_text=True)


def test_a_tampered_or_foreign_credential_does_not_verify(client, auth, completed, session):
    auth.login(completed.instructor)
    _issue(auth, completed.trainee)
    token = session.get(Credential, _issued_id(session)).jws
    session.rollback()
    header, body, signature = token.split(".")
    claims = json.loads(jwt.utils.base64url_decode(body))
    claims["name"] = "Chief Data Scientist"
    forged = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    checked = client.post(
        "/credentials/verify", data={"credential": f"{header}.{forged}.{signature}"}
    )
    assert checked.json["valid"] is False and checked.json["checks"]["signature"] is False
    # Signed by someone else's key with our issuer's name on it.
    from cryptography.hazmat.primitives.asymmetric import ed25519

    other = ed25519.Ed25519PrivateKey.generate()
    foreign = jwt.encode(claims, other, algorithm="EdDSA", headers={"typ": "vc+jwt"})
    assert client.post("/credentials/verify", data={"credential": foreign}).json["valid"] is False
    assert (
        client.post("/credentials/verify", data={"credential": "nonsense"}).json["valid"] is False
    )


def test_nothing_is_issued_that_was_not_earned(client, auth, users, content, session) -> None:
    auth.login(users.instructor)
    response = _issue(auth, users.trainee)
    assert response.status_code == 409 and "0 of the 1 exercises" in response.get_data(as_text=True)
    response = _issue(auth, users.trainee, kind="role", slug="data-engineer")
    assert response.status_code in (404, 409)
    assert _issue(auth, users.recruiter).status_code == 404
    assert _issue(auth, users.trainee, kind="medal").status_code == 400
    assert _count(session) == 0


@pytest.mark.parametrize("who", ["trainee", "recruiter"])
def test_only_staff_issue_and_revoke(client, auth, completed, session, who) -> None:
    auth.login(getattr(completed, who))
    assert _issue(auth, completed.trainee).status_code == 403
    assert auth.post("/credentials/x/revoke", {"reason": "r"}).status_code == 403
    assert _count(session) == 0


def test_the_schema_refuses_what_the_spec_requires(completed) -> None:
    assert schema_errors({"type": ["VerifiableCredential"]})
    assert any("credentialSubject" in e for e in schema_errors({"@context": [], "id": "x"}))
