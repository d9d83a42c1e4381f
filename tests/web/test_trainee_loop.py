"""The trainee's path through the pages, with real grading."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lms.models import GradingJob, Submission

SOURCE = (
    Path(__file__).parent.parent / "fixtures/content/exercises/squares/squares.ipynb"
).read_text()


@pytest.fixture
def trainee(auth, users, content):
    """The signed-in trainee, with the fixture course imported."""
    auth.login(users.trainee)
    return auth


def test_dashboard_course_and_lesson(client, trainee) -> None:
    page = client.get("/learn").get_data(as_text=True)
    assert "Introduction" in page and "0 of 1 exercises done" in page
    # What to do next: the module's first lesson, then its exercise.
    assert "Read: Hello lesson" in page and "/exercises/squares" in page
    course = client.get("/courses/intro").get_data(as_text=True)
    assert "Hello lesson" in course and "Squares" in course
    lesson = client.get("/courses/intro/basics/01-hello")
    html = lesson.get_data(as_text=True)
    assert lesson.status_code == 200
    assert '<pre class="highlight">' in html and "<table>" in html
    assert "<script>alert" not in html  # raw HTML in Markdown is not trusted
    assert "More lesson" in html  # link to the next lesson


def test_lesson_in_french(client, trainee) -> None:
    client.post("/language", data={"locale": "fr", "csrf_token": trainee.token("/learn")})
    html = client.get("/courses/intro/basics/01-hello").get_data(as_text=True)
    assert "Leçon bonjour" in html and "Mes cours" in html


def test_exercise_page_shows_answer_editors_not_solutions(client, trainee) -> None:
    html = client.get("/exercises/squares").get_data(as_text=True)
    assert 'name="answer-squares"' in html and 'name="answer-total"' in html
    assert "BEGIN SOLUTION" not in html and "HIDDEN-MARKER" not in html
    assert "return [i * i" not in html


def test_download_release_notebook(client, trainee) -> None:
    response = client.get("/exercises/squares/notebook")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    notebook = json.loads(response.data)
    assert "HIDDEN-MARKER" not in response.get_data(as_text=True)
    assert notebook["nbformat"] == 4
    data = client.get("/exercises/squares/files/data/numbers.txt")
    assert data.data == b"1\n2\n3\n"


def _browser_submit(client, trainee, answers: dict[str, str], action: str = "submit"):
    """Submit answers typed in the page's editors, as the page's script does."""
    page = client.get("/exercises/squares").get_data(as_text=True)
    token = page.split('name="token" value="')[1].split('"')[0]
    data = {
        "csrf_token": trainee.csrf_token_from(page),
        "token": token,
        "origin": "browser",
        "action": action,
    }
    data.update({f"answer-{k}": v for k, v in answers.items()})
    return client.post(
        "/exercises/squares/submissions", data=data, headers={"Accept": "application/json"}
    )


RIGHT = {
    "squares": "def squares(n):\n    return [i * i for i in range(n)]",
    "total": "def total(path):\n    return sum(int(x) for x in open(path).read().split())",
}


def test_submit_in_browser_is_graded(run_jobs, client, trainee, session) -> None:
    response = _browser_submit(client, trainee, RIGHT)
    assert response.status_code == 202, response.get_data(as_text=True)
    status_url = response.json["status_url"]
    assert client.get(status_url).json["status"] == "queued"
    assert run_jobs() == 1
    status = client.get(status_url).json
    assert status["status"] == "graded" and status["finished"]
    assert status["score"] == 3.0 and status["max_score"] == 3.0
    assert {c["grade_id"]: c["score"] for c in status["cells"]} == {
        "test_squares": 2.0,
        "test_total": 1.0,
    }
    feedback = client.get(status["feedback_url"])
    assert "sandbox" in feedback.headers["Content-Security-Policy"]
    assert "HIDDEN-MARKER" not in feedback.get_data(as_text=True)
    history = client.get("/exercises/squares").get_data(as_text=True)
    assert "3 / 3" in history
    assert "1 of 1 exercises done" in client.get("/learn").get_data(as_text=True)


def test_wrong_answer_scores_per_test(run_jobs, client, trainee) -> None:
    wrong = dict(RIGHT, squares="def squares(n):\n    return [1]")
    status_url = _browser_submit(client, trainee, wrong).json["status_url"]
    run_jobs()
    status = client.get(status_url).json
    assert status["score"] == 1.0
    assert {c["grade_id"]: c["score"] for c in status["cells"]}["test_squares"] == 0.0


def test_check_my_work_runs_visible_tests_only_and_is_not_an_attempt(
    run_jobs, client, trainee, session
) -> None:
    # Passes the visible test (squares(3)) but not the hidden one (squares(0) == []).
    tricky = dict(RIGHT, squares="def squares(n):\n    return [0, 1, 4] if n else [9]")
    status_url = _browser_submit(client, trainee, tricky, action="check").json["status_url"]
    run_jobs()
    status = client.get(status_url).json
    assert status["purpose"] == "check" and status["status"] == "graded"
    assert {c["grade_id"]: c["score"] for c in status["cells"]}["test_squares"] == 2.0
    assert "No attempt yet" in client.get("/exercises/squares").get_data(as_text=True)


def test_upload_is_stored_unchanged(run_jobs, client, trainee, session) -> None:
    page = client.get("/exercises/squares").get_data(as_text=True)
    token = page.split('name="token" value="')[2].split('"')[0]
    raw = SOURCE.encode()
    response = client.post(
        "/exercises/squares/submissions",
        data={
            "csrf_token": trainee.csrf_token_from(page),
            "token": token,
            "origin": "upload",
            "action": "submit",
            "notebook": (__import__("io").BytesIO(raw), "mine.ipynb"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    submission = session.query(Submission).one()
    from lms.services.blobs import get_blob

    assert get_blob(session, submission.notebook_sha256) == raw
    assert submission.origin == "upload" and submission.notebook_name == "mine.ipynb"
    assert session.query(GradingJob).one().status.value == "queued"
    submission_id = submission.id
    session.rollback()  # SQLite: end the read so the worker can write
    run_jobs()
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Squares" in html
    assert client.get(f"/submissions/{submission_id}/notebook").data == raw


# Passes the visible test (squares(3)) and hangs only on the hidden one (squares(0)); the next
# answer inspects the test that calls it only when that test is a hidden one (n == 0).
HANGS_UNDER_HIDDEN = dict(
    RIGHT,
    squares="def squares(n):\n    while not n:\n        pass\n    return [i * i for i in range(n)]",
)
PEEKS_UNDER_HIDDEN = dict(
    RIGHT,
    squares="import sys\n"
    "def squares(n):\n"
    "    if n == 0:\n"
    "        print(sys._getframe(1).f_code.co_consts)\n"
    "    return [i * i for i in range(n)]",
)
HIDDEN_TRACES = ("HIDDEN-MARKER", "squares(0)", "timeout", "time limit", "CellTimeoutError")
HIDDEN_FLAGS = ("timeout:", "introspection:", "cell-")


@pytest.mark.parametrize(
    ("answers", "flag"),
    [
        (HANGS_UNDER_HIDDEN, "timeout:test_squares"),
        (PEEKS_UNDER_HIDDEN, "introspection:test_squares"),
    ],
    ids=["timeout-under-hidden-tests", "introspection-under-hidden-tests"],
)
def test_what_only_the_hidden_run_did_reaches_no_trainee(
    run_jobs, client, trainee, users, session, answers, flag
) -> None:
    from lms.models import Exercise

    session.query(Exercise).filter_by(slug="squares").one().timeout = 1.0
    session.commit()
    status_url = _browser_submit(client, trainee, answers).json["status_url"]
    assert run_jobs() == 1
    status = client.get(status_url)
    body = status.get_data(as_text=True)
    assert status.json["status"] == "graded" and status.json["score"] == 1.0  # test_squares: 0
    assert "flags" not in status.json
    for trace in HIDDEN_TRACES + HIDDEN_FLAGS:
        assert trace not in body, trace
    if flag.startswith("introspection:"):
        assert status.json["notices"] == ["review"]  # held for review, in plain words
    seen = [
        body,
        client.get(status.json["feedback_url"]).get_data(as_text=True),
        client.get(status.json["page_url"]).get_data(as_text=True),
        client.get("/exercises/squares").get_data(as_text=True),
        client.get("/skills/my-data.json").get_data(as_text=True),
    ]
    for page in seen:
        for trace in HIDDEN_TRACES:
            assert trace not in page, trace
        assert flag not in page
    # Staff still read the grader's flags (and the executed notebook).
    trainee.logout()
    trainee.login(users.instructor)
    assert flag in client.get(status_url).json["flags"]
