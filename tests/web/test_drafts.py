"""Drafts: autosaved answers, restored on reload and on another device; only the trainee's own,
only valid ones, and a refused draft changes nothing stored."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lms.models import Draft, Submission
from lms.services import drafts

URL = "/exercises/squares/draft"
SQUARES = "def squares(n):\n    return [i * i for i in range(n)]\n"


@pytest.fixture
def trainee(auth, users, content):
    """The signed-in trainee, with the fixture course imported."""
    auth.login(users.trainee)
    return auth


def _put(client, auth, body, token=None, path=URL):
    token = token if token is not None else auth.token("/exercises/squares")
    return client.put(path, json=body, headers={"X-CSRFToken": token, "Accept": "application/json"})


def _stored(session):
    rows = session.scalars(select(Draft)).all()
    stored = {(d.user_id, d.exercise_id): (dict(d.answers), d.saved_at) for d in rows}
    session.rollback()
    return stored


def test_a_saved_draft_is_what_the_page_shows_on_reload(client, trainee) -> None:
    page = client.get("/exercises/squares").get_data(as_text=True)
    assert 'data-draft-url="/exercises/squares/draft"' in page
    assert 'data-draft-saved-at=""' in page
    saved = _put(client, trainee, {"answers": {"squares": SQUARES, "total": "x = 1\r\n"}})
    assert saved.status_code == 200 and saved.json["saved_at"]
    page = client.get("/exercises/squares").get_data(as_text=True)
    assert "return [i * i for i in range(n)]" in page
    assert f'data-draft-saved-at="{saved.json["saved_at"]}"' in page
    got = client.get(URL, headers={"Accept": "application/json"}).json
    assert got["answers"] == {"squares": SQUARES, "total": "x = 1\n"}  # CRLF normalised
    assert got["saved_at"] == saved.json["saved_at"] and got["csrf_token"]


def test_the_draft_follows_the_trainee_to_another_device_and_a_new_sign_in(
    app, client, trainee, users
) -> None:
    _put(client, trainee, {"answers": {"squares": SQUARES}})
    trainee.logout()
    other_device = app.test_client()
    from tests.conftest import AuthActions

    AuthActions(other_device).login(users.trainee)
    assert "return [i * i for i in range(n)]" in other_device.get("/exercises/squares").get_data(
        as_text=True
    )
    trainee.login(users.trainee)  # the first device, signed in again
    assert "return [i * i" in client.get("/exercises/squares").get_data(as_text=True)


def test_a_newer_submission_wins_over_an_older_draft(client, trainee, session) -> None:
    _put(client, trainee, {"answers": {"squares": "draft = 1\n"}})
    token = trainee.token("/exercises/squares")
    client.post(
        "/exercises/squares/submissions",
        data={"csrf_token": token, "token": "t1", "origin": "browser", "answer-squares": SQUARES},
    )
    assert session.scalar(select(func.count()).select_from(Submission)) == 1
    session.rollback()
    page = client.get("/exercises/squares").get_data(as_text=True)
    assert "return [i * i" in page and "draft = 1" not in page
    assert 'data-draft-saved-at=""' in page


def test_only_the_trainee_reads_and_writes_their_own_draft(
    app, client, trainee, users, session
) -> None:
    _put(client, trainee, {"answers": {"squares": SQUARES}})
    before = _stored(session)
    from tests.conftest import AuthActions

    other = app.test_client()
    other_auth = AuthActions(other)
    other_auth.login(users.other_trainee)
    mine = other.get(URL, headers={"Accept": "application/json"}).json
    assert mine["answers"] == {} and mine["saved_at"] is None  # not the first trainee's
    assert "return [i * i" not in other.get("/exercises/squares").get_data(as_text=True)
    _put(other, other_auth, {"answers": {"squares": "mine = 2\n"}})
    after = _stored(session)
    assert len(after) == 2
    assert [v for k, v in after.items() if k in before] == list(before.values())
    for email in (users.instructor, users.admin, users.recruiter):
        staff = app.test_client()
        staff_auth = AuthActions(staff)
        staff_auth.login(email)
        assert staff.get(URL, headers={"Accept": "application/json"}).status_code == 403
        token = staff_auth.token("/account/password")
        refused = _put(staff, staff_auth, {"answers": {"squares": "x"}}, token=token)
        assert refused.status_code == 403 and refused.json["error"]
    anonymous = app.test_client()
    assert anonymous.get(URL, headers={"Accept": "application/json"}).status_code == 401
    refused = anonymous.put(URL, json={"answers": {}}, headers={"Accept": "application/json"})
    assert refused.status_code in (400, 401)  # no session: no CSRF token, no user
    assert _stored(session) == after


def test_staff_trying_an_exercise_have_no_autosave(client, auth, users, content) -> None:
    auth.login(users.instructor)
    page = client.get("/exercises/squares").get_data(as_text=True)
    assert 'name="answer-squares"' in page and "data-draft-url" not in page


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"answers": {"nope": "x"}}, 400, "no answer cell nope"),
        ({"answers": {"test_squares": "x"}}, 400, "no answer cell test_squares"),
        ({"answers": {"squares": 3}}, 400, "JSON object"),
        ({"answers": ["squares"]}, 400, "JSON object"),
        ({"other": {}}, 400, "JSON object"),
        ({"answers": {"squares": "x" * (drafts.MAX_ANSWER_CHARS + 1)}}, 413, "longer than"),
    ],
)
def test_a_bad_draft_is_refused_and_changes_nothing(
    client, trainee, session, body, status, says
) -> None:
    _put(client, trainee, {"answers": {"squares": SQUARES}})
    before = _stored(session)
    refused = _put(client, trainee, body)
    assert refused.status_code == status
    assert says in refused.json["error"]
    assert _stored(session) == before


def test_a_draft_larger_in_all_is_refused(client, trainee, session, monkeypatch) -> None:
    monkeypatch.setattr(drafts, "MAX_DRAFT_CHARS", 1000)  # two cells of the fixture, each short
    each = 501
    refused = _put(client, trainee, {"answers": {"squares": "x" * each, "total": "y" * each}})
    assert refused.status_code == 413 and "in all" in refused.json["error"]
    assert _stored(session) == {}


def test_a_draft_needs_the_csrf_token_and_an_existing_exercise(client, trainee, session) -> None:
    refused = _put(client, trainee, {"answers": {"squares": SQUARES}}, token="forged")
    assert refused.status_code == 400 and "session expired" in refused.json["error"]
    missing = _put(client, trainee, {"answers": {}}, path="/exercises/nope/draft")
    assert missing.status_code == 404
    assert _stored(session) == {}


def test_a_draft_in_french_says_what_is_wrong_in_french(client, trainee) -> None:
    client.post("/language", data={"locale": "fr", "csrf_token": trainee.token("/learn")})
    refused = _put(client, trainee, {"answers": {"nope": "x"}})
    assert "nope" in refused.json["error"] and "cellule" in refused.json["error"]
    page = client.get("/exercises/squares").get_data(as_text=True)
    assert "Brouillon enregistré à {time}" in page
