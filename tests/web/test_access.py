"""Every route checks the role and the owner: a table of expectations over the whole URL map."""

from __future__ import annotations

from pathlib import Path

import pytest

from lms.models import Submission, SubmissionPurpose
from lms.services import submissions

ALL = {"trainee", "instructor", "recruiter", "admin"}
LEARNERS = {"trainee", "instructor", "admin"}
# endpoint -> roles that may open it; every route of the app must be listed here.
EXPECTED = {
    "learn.dashboard": LEARNERS,
    "learn.course": LEARNERS,
    "learn.lesson": LEARNERS,
    "exercises.exercise": LEARNERS,
    "exercises.download": LEARNERS,
    "exercises.data_file": LEARNERS,
    "exercises.submit": LEARNERS,
    "exercises.submission": LEARNERS,
    "exercises.status": LEARNERS,
    "exercises.feedback": LEARNERS,
    "instructor.index": {"instructor", "admin"},
    "instructor.exercise_submissions": {"instructor", "admin"},
    "recruiter.index": {"recruiter", "admin"},
    "admin.index": {"admin"},
    "auth.change_password": ALL,
    "auth.logout": ALL,
}
PUBLIC = {"static", "pygments_css", "auth.login", "auth.set_language", "learn.home"}
OWNED = {"exercises.submission", "exercises.status", "exercises.feedback"}

SOURCE = (Path(__file__).parent.parent / "fixtures/content/exercises/squares/squares.ipynb"
          ).read_bytes()


@pytest.fixture
def world(app, session, users, content):  # noqa: ANN001, ANN201
    """The fixture content, the users, and one graded-looking submission by `users.trainee`."""
    from sqlalchemy import select

    from lms.models import User

    trainee = session.scalar(select(User).where(User.email == users.trainee))
    queued = submissions.submit(
        session, user_id=trainee.id, exercise_slug="squares", notebook=SOURCE, name="s.ipynb",
        origin="upload", purpose=SubmissionPurpose.GRADE, token="t1")
    row = session.get(Submission, queued.submission_id)
    row.feedback_html = "<p>feedback</p>"
    session.commit()
    return {"slug": "squares", "course_slug": "intro", "module_slug": "basics",
            "lesson_slug": "01-hello", "submission_id": queued.submission_id,
            "name": "data/numbers.txt"}


def _url(app, endpoint: str, values: dict) -> tuple[str, set[str]]:  # noqa: ANN001
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **{k: values[k] for k in rule.arguments}), rule.methods


def test_every_route_is_in_the_table(app) -> None:  # noqa: ANN001
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - PUBLIC == set(EXPECTED), "add new routes to EXPECTED with their roles"


@pytest.mark.parametrize("endpoint", sorted(EXPECTED))
def test_anonymous_is_sent_to_sign_in(app, client, auth, world, endpoint: str) -> None:  # noqa: ANN001
    url, methods = _url(app, endpoint, world)
    if "GET" in methods:
        response = client.get(url)
    else:
        response = client.post(url, data={"csrf_token": auth.token("/login")})
    if url.endswith(".json"):
        assert response.status_code == 401
    else:
        assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", sorted(ALL))
@pytest.mark.parametrize("endpoint", sorted(EXPECTED))
def test_role_check(app, client, auth, users, world, endpoint: str, role: str) -> None:  # noqa: ANN001
    auth.login(getattr(users, role))
    url, methods = _url(app, endpoint, world)
    if "GET" in methods:
        response = client.get(url)
    else:
        # POST routes: an empty but CSRF-valid form (the view refuses it or acts harmlessly).
        response = client.post(url, data={"csrf_token": auth.token("/account/password")})
    if role in EXPECTED[endpoint]:
        assert response.status_code not in (401, 403, 404), (endpoint, role, response.status,
                                                              response.get_data(as_text=True)[-600:])
    else:
        assert response.status_code == 403, (endpoint, role, response.status)


@pytest.mark.parametrize("endpoint", sorted(OWNED))
def test_another_trainee_gets_404(app, client, auth, users, world, endpoint: str) -> None:  # noqa: ANN001
    auth.login(users.other_trainee)
    url, _ = _url(app, endpoint, world)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("endpoint", sorted(OWNED))
def test_owner_and_staff_see_the_submission(app, client, auth, users, world,  # noqa: ANN001
                                            endpoint: str) -> None:
    for email in (users.trainee, users.instructor):
        auth.login(email)
        url, _ = _url(app, endpoint, world)
        assert client.get(url).status_code == 200
        auth.logout()


def test_missing_things_are_404(client, auth, users, world) -> None:  # noqa: ANN001
    auth.login(users.trainee)
    for url in ("/courses/nope", "/courses/intro/basics/nope", "/exercises/nope",
                "/exercises/squares/files/nope.txt", "/submissions/999999",
                "/submissions/999999.json"):
        assert client.get(url).status_code == 404, url
