"""Bad input gets a clear message, the right status, and nothing is stored half-way."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lms.models import Blob, GradingJob, Submission

FIXTURES = Path(__file__).parent.parent / "fixtures/content/exercises/squares"
SOURCE = (FIXTURES / "squares.ipynb").read_bytes()


@pytest.fixture
def trainee(auth, users, content):
    """The signed-in trainee, with the fixture course imported."""
    auth.login(users.trainee)
    return auth


def _counts(session) -> tuple[int, int, int]:
    counts = tuple(
        session.scalar(select(func.count()).select_from(m)) for m in (Submission, GradingJob, Blob)
    )
    session.rollback()  # SQLite: end the read so the app's requests can write
    return counts


def _form(client, trainee, which: int = 1) -> dict:
    """The CSRF and idempotency tokens of the page's browser form (1) or upload form (2)."""
    page = client.get("/exercises/squares").get_data(as_text=True)
    token = page.split('name="token" value="')[which].split('"')[0]
    return {"csrf_token": trainee.csrf_token_from(page), "token": token}


def _upload(client, data: dict, payload: bytes, filename: str = "mine.ipynb", **headers):
    data = dict(data, origin="upload", action="submit", notebook=(io.BytesIO(payload), filename))
    return client.post(
        "/exercises/squares/submissions",
        data=data,
        content_type="multipart/form-data",
        headers=headers,
    )


def test_post_without_csrf_token_is_400(client, trainee, session) -> None:
    before = _counts(session)
    response = client.post("/exercises/squares/submissions", data={"token": "x"})
    assert response.status_code == 400
    assert "Reload the page" in response.get_data(as_text=True)
    assert client.post("/login", data={"email": "a@b.c", "password": "x"}).status_code == 400
    assert _counts(session) == before


# POSTs that come from another site by design, so they cannot carry our CSRF token; each is
# protected otherwise, and tested there.
CROSS_SITE = {
    # The LMS starts the OIDC login and posts the signed id_token (state, nonce and signature
    # checked: tests/lti/test_launch_and_scores.py).
    "lti.login",
    "lti.launch",
    # Public verification of a credential: reads a JWS, changes nothing, signs in no one
    # (tests/web/test_credentials.py).
    "credentials.verify",
}


def test_every_form_route_needs_a_csrf_token(app, client, trainee) -> None:
    from flask import url_for

    posts = [
        r
        for r in app.url_map.iter_rules()
        if "POST" in r.methods and not r.rule.startswith("/api/")
    ]
    assert len(posts) >= 5
    failures = []
    for rule in posts:
        if rule.endpoint in CROSS_SITE:
            continue
        with app.test_request_context():
            url = url_for(rule.endpoint, **{name: "1" for name in rule.arguments})
        response = client.post(url, data={"email": "x@example.org"})
        if response.status_code != 400:
            failures.append((rule.endpoint, response.status_code))
    assert failures == []
    assert CROSS_SITE <= {r.endpoint for r in posts}  # the list names real routes only
    assert client.get("/learn").status_code == 200  # still signed in: nothing was done


def test_expired_session_is_400_with_a_clear_message(client, trainee, session) -> None:
    data = _form(client, trainee)
    client.delete_cookie("session")  # what an expired or lost session looks like
    response = client.post("/exercises/squares/submissions", data=data)
    assert response.status_code == 400
    assert "session expired" in response.get_data(as_text=True)
    assert _counts(session)[0] == 0


def test_oversized_upload_is_413(app, client, trainee, session) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 4096
    before = _counts(session)
    response = _upload(client, _form(client, trainee, 2), b" " * 10_000 + SOURCE)
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)
    assert _counts(session) == before


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", "not a Jupyter notebook"),
        (b'{"hello": "world"}', "has no cells"),
        (json.dumps({"cells": [], "nbformat": 3}).encode(), "version 4"),
    ],
)
def test_non_notebook_upload_is_400(client, trainee, session, payload: bytes, message: str) -> None:
    before = _counts(session)
    response = _upload(client, _form(client, trainee, 2), payload, "photo.png")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _counts(session) == before


def test_notebook_of_another_exercise_is_400(client, trainee, session) -> None:
    other = json.loads(SOURCE)
    for cell in other["cells"]:
        if "nbgrader" in cell["metadata"]:
            cell["metadata"]["nbgrader"]["grade_id"] = (
                "other_" + cell["metadata"]["nbgrader"]["grade_id"]
            )
    before = _counts(session)
    response = _upload(client, _form(client, trainee, 2), json.dumps(other).encode())
    assert response.status_code == 400
    assert "not the one for" in response.get_data(as_text=True)
    assert _counts(session) == before


def test_upload_form_without_a_file_is_400(client, trainee, session) -> None:
    data = dict(_form(client, trainee, 2), origin="upload", action="submit")
    response = client.post("/exercises/squares/submissions", data=data)
    assert response.status_code == 400
    assert "Choose a notebook file" in response.get_data(as_text=True)
    assert _counts(session)[0] == 0


def test_unknown_exercise_is_404(client, trainee) -> None:
    data = _form(client, trainee, 2)
    response = client.post("/exercises/nope/submissions", data=dict(data, origin="browser"))
    assert response.status_code == 404


def test_double_submit_is_409_and_stored_once(client, trainee, session) -> None:
    data = _form(client, trainee, 2)
    first = _upload(client, data, SOURCE, Accept="application/json")
    assert first.status_code == 202
    second = _upload(client, data, SOURCE, Accept="application/json")
    assert second.status_code == 409
    assert "already submitted" in second.json["error"]
    assert second.json["status_url"] == first.json["status_url"]
    assert _counts(session)[:2] == (1, 1)
    page = _upload(client, data, SOURCE)  # the same, from a browser without script
    assert page.status_code == 409 and "already submitted" in page.get_data(as_text=True)


def test_check_my_work_is_rate_limited(app, client, trainee, session) -> None:
    app.config["CHECK_WORK_PER_MINUTE"] = 2
    statuses = []
    for _ in range(3):
        data = dict(_form(client, trainee), origin="browser", action="check")
        response = client.post(
            "/exercises/squares/submissions", data=data, headers={"Accept": "application/json"}
        )
        statuses.append(response.status_code)
    assert statuses == [202, 202, 429]
    assert "times a minute" in response.json["error"]
    assert _counts(session)[0] == 2
    # Graded submissions have their own allowance, not used up by the checks.
    app.config["SUBMISSIONS_PER_MINUTE"] = 1
    data = dict(_form(client, trainee), origin="browser", action="submit")
    assert client.post("/exercises/squares/submissions", data=data).status_code == 302
    data = dict(_form(client, trainee), origin="browser", action="submit")
    response = client.post("/exercises/squares/submissions", data=data)
    assert response.status_code == 429
    assert "submit 1 times a minute" in response.get_data(as_text=True)


# --- crafted input: a clear 400/404, never a 500, and nothing stored that breaks a page later -


def _notebook(**changes) -> bytes:
    notebook = json.loads(SOURCE)
    for key, value in changes.items():
        notebook[key] = value
    return json.dumps(notebook).encode()


def _with_cell_change(change) -> bytes:
    notebook = json.loads(SOURCE)
    change(notebook["cells"])
    return json.dumps(notebook).encode()


def _first_graded(cells) -> dict:
    return next(c for c in cells if "nbgrader" in c["metadata"])


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (_with_cell_change(lambda cells: cells.append("just a string")), "Cell 1"[:5]),
        (
            _with_cell_change(
                lambda cells: _first_graded(cells)["metadata"]["nbgrader"].update(
                    grade_id=["a", "list"]
                )
            ),
            "grade_id is text",
        ),
        (_with_cell_change(lambda cells: cells[0].update(source=[1, 2])), "malformed"),
        (_with_cell_change(lambda cells: cells[0].update(metadata="x")), "malformed"),
        (b"[" * 100_000 + b"]" * 100_000, "nested"),
        (b'{"cells": ' + b"[" * 200 + b"]" * 200 + b', "nbformat": 4}', "nested"),
    ],
)
def test_crafted_notebooks_are_refused(
    client, trainee, session, payload: bytes, message: str
) -> None:
    before = _counts(session)
    response = _upload(client, _form(client, trainee, 2), payload)
    assert response.status_code == 400, response.status
    assert message in response.get_data(as_text=True)
    assert _counts(session) == before
    assert client.get("/exercises/squares").status_code == 200


def test_a_stored_malformed_notebook_does_not_break_the_exercise_page(
    client, trainee, session, users
) -> None:
    from lms.models import Exercise, SubmissionPurpose, SubmissionStatus, User
    from lms.services.blobs import put_blob

    user_id = session.scalar(select(User.id).where(User.email == users.trainee))
    exercise_id = session.scalar(select(Exercise.id).where(Exercise.slug == "squares"))
    bad = _with_cell_change(lambda cells: cells.insert(0, "a string"))
    session.add(
        Submission(
            user_id=user_id,
            exercise_id=exercise_id,
            notebook_name="x.ipynb",
            notebook_sha256=put_blob(session, bad),
            idempotency_token="old-bad",
            origin="upload",
            purpose=SubmissionPurpose.CHECK,
            status=SubmissionStatus.REJECTED,
        )
    )
    session.commit()
    assert client.get("/exercises/squares").status_code == 200


def _int_routes(app):
    from werkzeug.routing import IntegerConverter

    for rule in app.url_map.iter_rules():
        if any(isinstance(c, IntegerConverter) for c in rule._converters.values()):
            yield rule


@pytest.mark.parametrize("number", ["99999999999999999999999", "2147483648", "-1"])
def test_huge_ids_are_404_on_every_int_route(
    app, client, auth, users, content, number: str
) -> None:
    from lms.extensions import db
    from lms.services.api_tokens import create_token

    with app.app_context():
        token, _row = create_token(db.session, users.admin)
    auth.login(users.admin)
    failures = []
    for rule in _int_routes(app):
        url = rule.rule
        for name in rule.arguments:
            url = url.replace(f"<int:{name}>", number).replace(f"<{name}>", "x")
        method = "get" if "GET" in rule.methods else "post"
        response = getattr(client, method)(
            url,
            headers={"Authorization": f"Bearer {token}"},
            data={"csrf_token": auth.token("/account/password")} if method == "post" else None,
        )
        # 405: the same path exists for another method (werkzeug says so before the bound).
        if response.status_code not in (404, 405):
            failures.append((rule.rule, response.status_code))
    assert failures == []
    assert len(list(_int_routes(app))) >= 10


def test_query_parameters_named_like_url_arguments(client, auth, users, content) -> None:
    auth.login(users.recruiter)
    for query in (
        "?role_id=x",
        "?_method=POST",
        "?_external=1",
        "?status=%00&sort=%ff",
        "?min_readiness=nan&min_skill=1e309",
    ):
        response = client.get("/recruiter/roles/junior-dev/candidates" + query)
        assert response.status_code == 200, query


def test_a_newline_in_next_is_ignored(client, auth, users) -> None:
    response = client.post(
        "/login?next=/x%0d%0aLocation:%20//evil",
        data={
            "email": users.trainee,
            "password": "correct horse battery",
            "csrf_token": auth.token("/login"),
        },
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"
