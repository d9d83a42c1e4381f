"""Instructors grade what needs a human: the queue, the grading page, the totals, who sees what."""

from __future__ import annotations

import json
import secrets
import shutil
from pathlib import Path

import nbformat
import pytest
from sqlalchemy import event, select

from lms.errors import Invalid
from lms.extensions import db
from lms.models import CellGrade, Submission, SubmissionPurpose, User
from lms.services import (
    exercise_difficulty,
    manual_grading,
    readiness_cache,
    role_readiness,
    submissions,
)
from lms.services.content_import import import_content

# An exercise with every kind of grade cell: a test, a written answer, a task.
ESSAY_YML = """\
title: Essay
title_fr: Rédaction
kind: assessment
notebook: essay.ipynb
timeout: 10
skills:
  test_double: [python-basics]
  explain: [testing]
  review_task: [testing]
"""


def _essay_notebook() -> str:
    def meta(grade_id: str, **flags: object) -> dict:
        nbgrader = {
            "grade_id": grade_id,
            "schema_version": 3,
            "locked": False,
            "solution": False,
            "grade": False,
        }
        nbgrader.update(flags)
        return {"nbgrader": nbgrader}

    cells = [
        nbformat.v4.new_markdown_cell(
            "# Essay\n\nWrite `double(x)`, then explain it.", metadata=meta("intro", locked=True)
        ),
        nbformat.v4.new_code_cell(
            "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
            metadata=meta("double", solution=True),
        ),
        nbformat.v4.new_code_cell(
            "assert double(2) == 4\n### BEGIN HIDDEN TESTS\nassert double(0) == 0  # HIDDEN-X\n"
            "### END HIDDEN TESTS",
            metadata=meta("test_double", grade=True, locked=True, points=1),
        ),
        nbformat.v4.new_markdown_cell(
            "### BEGIN SOLUTION\nBecause doubling is multiplying by two.\n### END SOLUTION",
            metadata=meta("explain", grade=True, solution=True, points=2),
        ),
        nbformat.v4.new_markdown_cell(
            "Review a classmate's code (graded by hand).",
            metadata=meta("review_task", task=True, locked=True, points=3),
        ),
    ]
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    notebook.metadata["language_info"] = {"name": "python"}
    return nbformat.writes(notebook)


@pytest.fixture
def essay_content(app, session, users, fixture_content: Path, tmp_path: Path):
    """The fixture content plus the "essay" exercise, imported."""
    root = tmp_path / "content"
    shutil.copytree(fixture_content, root)
    folder = root / "exercises" / "essay"
    folder.mkdir()
    (folder / "exercise.yml").write_text(ESSAY_YML)
    (folder / "essay.ipynb").write_text(_essay_notebook())
    return import_content(session, root)


def _user_id(session, email: str) -> int:
    found = session.scalar(select(User.id).where(User.email == email))
    session.rollback()
    return found


def _hand_in(session, email: str, answers: dict[str, str], slug: str = "essay") -> int:
    """Submit answers typed in the browser for grading; the submission's id (not graded yet)."""
    exercise = submissions.get_exercise(session, slug)
    notebook = submissions.notebook_from_answers(session, exercise, answers)
    queued = submissions.submit(
        session,
        user_id=_user_id(session, email),
        exercise_slug=slug,
        notebook=notebook,
        name="essay.ipynb",
        origin="browser",
        purpose=SubmissionPurpose.GRADE,
        token=secrets.token_hex(16),
    )
    return queued.submission_id


GOOD = {
    "double": "def double(x):\n    return 2 * x",
    "explain": "Doubling **multiplies** by two.\n\n<script>alert(1)</script>",
}


@pytest.fixture
def graded(session, users, essay_content, run_jobs):
    """Two trainees' attempts, graded by the real grader: the first trainee twice."""
    ids = {
        "old": _hand_in(session, users.trainee, {**GOOD, "explain": "First try."}),
        "other": _hand_in(
            session, users.other_trainee, {**GOOD, "double": "def double(x):\n    return x"}
        ),
    }
    assert run_jobs() == 2
    ids["latest"] = _hand_in(session, users.trainee, GOOD)
    assert run_jobs() == 1
    session.expire_all()
    return ids


def _state(session, submission_id: int) -> dict:
    """The submission's grades as stored now, read in a transaction that ends at once (on
    SQLite an open one would hold the write lock the app needs)."""
    session.expire_all()
    row = session.get(Submission, submission_id)
    state = row.status_json()
    state["cells"] = {
        c.grade_id: {
            **c.to_json(),
            "auto_score": c.auto_score,
            "graded_by_id": c.graded_by_id,
            "manually_graded_at": c.manually_graded_at,
        }
        for c in row.cells
    }
    session.rollback()
    return state


def _queue(session) -> list[int]:
    ids = [entry.submission.id for entry in manual_grading.grading_queue(session)]
    session.rollback()
    return ids


def _grade(auth, submission_id: int, grade_id: str, score: str, comment: str = ""):
    return auth.post(
        f"/instructor/submissions/{submission_id}/grading",
        {"grade_id": grade_id, "score": score, "comment": comment},
    )


def test_the_grader_leaves_written_answers_and_tasks_to_a_person(session, graded) -> None:
    latest = _state(session, graded["latest"])
    cells = latest["cells"]
    assert latest["needs_manual_grade"] is True
    assert cells["test_double"]["score"] == 1.0 and not cells["test_double"]["needs_manual_grade"]
    assert cells["explain"]["needs_manual_grade"] and cells["explain"]["kind"] == "manual"
    assert cells["review_task"]["needs_manual_grade"] and cells["review_task"]["kind"] == "task"
    assert (latest["score"], latest["max_score"]) == (1.0, 6.0)


def test_queue_lists_latest_attempts_oldest_first(client, auth, users, session, graded) -> None:
    auth.login(users.instructor)
    page = client.get("/instructor/grading")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    # The trainee's older attempt is superseded by the latest; the other trainee's came first.
    assert f'data-submission-id="{graded["old"]}"' not in html
    assert html.index(f'data-submission-id="{graded["other"]}"') < html.index(
        f'data-submission-id="{graded["latest"]}"'
    )
    entries = manual_grading.grading_queue(session)
    assert [(e.submission.id, e.waiting_cells) for e in entries] == [
        (graded["other"], 2),
        (graded["latest"], 2),
    ]
    essay = submissions.get_exercise(session, "essay").id
    assert manual_grading.queue_sizes(session) == {essay: 2}
    session.rollback()


def test_instructor_page_links_to_the_queue(client, auth, users, graded) -> None:
    auth.login(users.instructor)
    html = client.get("/instructor/").get_data(as_text=True)
    assert "To grade (2)" in html and 'href="/instructor/grading?exercise=essay">2</a>' in html


def test_queue_filters_by_exercise(client, auth, users, graded) -> None:
    auth.login(users.instructor)
    assert f'data-submission-id="{graded["latest"]}"' in client.get(
        "/instructor/grading?exercise=essay"
    ).get_data(as_text=True)
    squares = client.get("/instructor/grading?exercise=squares").get_data(as_text=True)
    assert "data-submission-id=" not in squares and "Nothing waits for a grade." in squares
    missing = client.get("/instructor/grading?exercise=nope")
    assert missing.status_code == 404
    assert "There is no exercise nope" in missing.get_data(as_text=True)


def test_grading_page_shows_the_answer_rendered_safely(client, auth, users, graded) -> None:
    auth.login(users.instructor)
    page = client.get(f"/instructor/submissions/{graded['latest']}/grading")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<strong>multiplies</strong>" in html  # the Markdown answer, rendered
    assert "<script>alert(1)</script>" not in html  # raw HTML in it is not trusted
    assert 'name="grade_id" value="explain"' in html
    assert 'name="grade_id" value="review_task"' in html
    assert 'name="grade_id" value="test_double"' not in html  # the grader's, not a person's
    assert "HIDDEN-X" in html  # the executed notebook, for staff
    assert '<pre class="highlight">' in html  # code highlighted
    older = client.get(f"/instructor/submissions/{graded['old']}/grading").get_data(as_text=True)
    assert "newer attempt" in older


def test_grading_a_cell_updates_totals_and_flags(client, auth, users, session, graded) -> None:
    instructor = _user_id(session, users.instructor)
    auth.login(users.instructor)
    sid = graded["latest"]
    assert _grade(auth, sid, "explain", "1,5", "Good, but *why* two?").status_code == 302
    state = _state(session, sid)
    explain = state["cells"]["explain"]
    assert (explain["score"], explain["auto_score"]) == (1.5, 0.0)
    assert explain["needs_manual_grade"] is False and explain["manually_graded"] is True
    assert explain["comment"] == "Good, but *why* two?"
    assert explain["graded_by_id"] == instructor and explain["manually_graded_at"] is not None
    assert state["score"] == 2.5 and state["needs_manual_grade"] is True  # the task still waits
    assert _queue(session) == [graded["other"], sid]

    assert _grade(auth, sid, "review_task", "3").status_code == 302
    state = _state(session, sid)
    assert state["score"] == 5.5 and state["needs_manual_grade"] is False
    assert _queue(session) == [graded["other"]]
    page = client.get(f"/instructor/submissions/{sid}/grading").get_data(as_text=True)
    assert "Every cell is graded" in page and "5.5 / 6" in page
    next_link = f'href="/instructor/submissions/{graded["other"]}/grading" id="next-to-grade"'
    assert next_link in page

    # A second grade overrides the first; the grader's score is still the grader's.
    assert _grade(auth, sid, "explain", "2").status_code == 302
    explain = _state(session, sid)["cells"]["explain"]
    assert (explain["score"], explain["auto_score"], explain["comment"]) == (2.0, 0.0, None)
    assert _state(session, sid)["score"] == 6.0


@pytest.mark.parametrize(
    ("score", "message"),
    [
        ("-1", "cannot be negative"),
        ("2.5", "cannot be above the cell&#39;s 2 points"),
        ("abc", "must be a number between 0 and 2"),
        ("nan", "must be a number between 0 and 2"),
        ("", "Enter a score between 0 and 2"),
    ],
)
def test_bad_scores_are_refused_and_change_nothing(
    client, auth, users, session, graded, score: str, message: str
) -> None:
    auth.login(users.instructor)
    sid = graded["latest"]
    before = _state(session, sid)
    response = _grade(auth, sid, "explain", score, "kept in the form")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in html
    assert "kept in the form" in html  # what was typed is not lost
    assert _state(session, sid) == before


def test_other_bad_requests_are_refused(client, auth, users, session, graded) -> None:
    auth.login(users.instructor)
    sid = graded["latest"]
    before = _state(session, sid)
    # A cell the grader scores, a cell that does not exist, a comment far too long.
    assert _grade(auth, sid, "test_double", "0").status_code == 400
    assert _grade(auth, sid, "nope", "1").status_code == 400
    too_long = _grade(auth, sid, "explain", "1", "x" * (manual_grading.MAX_COMMENT_LENGTH + 1))
    assert too_long.status_code == 400 and "keep it under" in too_long.get_data(as_text=True)
    assert _state(session, sid) == before
    assert _grade(auth, 999999, "explain", "1").status_code == 404


def test_a_submission_not_graded_yet_has_nothing_to_grade(
    client, auth, users, session, essay_content
) -> None:
    sid = _hand_in(session, users.trainee, GOOD)  # queued, never graded
    auth.login(users.instructor)
    page = client.get(f"/instructor/submissions/{sid}/grading").get_data(as_text=True)
    assert "there is nothing to grade" in page
    refused = _grade(auth, sid, "explain", "1")
    assert refused.status_code == 409 and "not graded" in refused.get_data(as_text=True)


def test_grading_needs_a_csrf_token(client, auth, users, session, graded) -> None:
    auth.login(users.instructor)
    sid = graded["latest"]
    before = _state(session, sid)
    response = client.post(
        f"/instructor/submissions/{sid}/grading", data={"grade_id": "explain", "score": "2"}
    )
    assert response.status_code == 400
    assert _state(session, sid) == before


@pytest.mark.parametrize("role", ["trainee", "other_trainee", "recruiter"])
def test_only_staff_may_grade(client, auth, users, session, graded, role: str) -> None:
    auth.login(getattr(users, role))
    sid = graded["latest"]
    before = _state(session, sid)
    for url in ("/instructor/grading", f"/instructor/submissions/{sid}/grading", "/instructor/"):
        assert client.get(url).status_code == 403, url
    assert _grade(auth, sid, "explain", "2").status_code == 403
    assert _state(session, sid) == before


def test_admin_may_grade(client, auth, users, session, graded) -> None:
    auth.login(users.admin)
    assert client.get("/instructor/grading").status_code == 200
    assert _grade(auth, graded["latest"], "explain", "2").status_code == 302


def test_trainee_sees_the_manual_score_and_comment(client, auth, users, graded) -> None:
    sid = graded["latest"]
    auth.login(users.instructor)
    _grade(auth, sid, "explain", "1.5", "Say **why** it doubles.")
    auth.logout()
    auth.login(users.trainee)
    status = client.get(f"/submissions/{sid}.json").get_json()
    explain = next(c for c in status["cells"] if c["grade_id"] == "explain")
    assert explain == {
        "grade_id": "explain",
        "kind": "manual",
        "score": 1.5,
        "max_score": 2.0,
        "needs_manual_grade": False,
        "manually_graded": True,
        "comment": "Say **why** it doubles.",
    }
    assert status["score"] == 2.5 and status["needs_manual_grade"] is True
    assert "HIDDEN-X" not in json.dumps(status)
    page = client.get(f"/submissions/{sid}").get_data(as_text=True)
    assert "Graded by an instructor" in page and "Say <strong>why</strong> it doubles." in page
    assert "1.5 / 2" in page
    # The other trainee sees neither.
    auth.logout()
    auth.login(users.other_trainee)
    assert client.get(f"/submissions/{sid}.json").status_code == 404


def test_a_manual_grade_is_evidence_for_readiness(app, session, users, graded) -> None:
    # Not graded yet: the written answer says nothing about its skill.
    trainee = _user_id(session, users.trainee)
    evidence = role_readiness.load_evidence(session, [trainee])[trainee]
    assert not [e for e in evidence if e.grade_id == "explain"]
    before = readiness_cache.trainee_versions(session)[trainee]
    session.rollback()
    grader = _user_id(session, users.instructor)
    manual_grading.record_grade(
        session,
        submission_id=graded["latest"],
        grade_id="explain",
        score="2",
        comment="",
        grader_id=grader,
    )
    evidence = role_readiness.load_evidence(session, [trainee])[trainee]
    explain = [e for e in evidence if e.grade_id == "explain"]
    assert [(e.score, e.submission_id) for e in explain] == [(2.0, graded["latest"])]
    changed = readiness_cache.trainee_versions(session)[trainee]
    assert changed != before
    # Re-grading changes the fingerprint even if the sum of scores comes out the same.
    manual_grading.record_grade(
        session,
        submission_id=graded["latest"],
        grade_id="explain",
        score="2",
        comment="same score",
        grader_id=grader,
    )
    assert readiness_cache.trainee_versions(session)[trainee] != changed
    session.rollback()


def test_where_trainees_struggle(client, auth, users, session, graded) -> None:
    essay = submissions.get_exercise(session, "essay").id
    cells = {c.grade_id: c for c in exercise_difficulty.cell_difficulty(session)[essay]}
    # Three graded attempts; the other trainee's double() is wrong; the hand-graded cells wait.
    assert (cells["test_double"].graded, cells["test_double"].missed) == (3, 1)
    assert "explain" not in cells and "review_task" not in cells
    session.rollback()
    auth.login(users.instructor)
    _grade(auth, graded["latest"], "explain", "2")
    _grade(auth, graded["other"], "explain", "0.5")
    cells = {c.grade_id: c for c in exercise_difficulty.cell_difficulty(session)[essay]}
    assert (cells["explain"].graded, cells["explain"].missed) == (2, 1)
    assert cells["explain"].missed_share == 0.5
    assert [c.grade_id for c in exercise_difficulty.cell_difficulty(session)[essay]] == [
        "test_double",
        "explain",
    ]  # notebook order
    session.rollback()
    html = client.get("/instructor/").get_data(as_text=True)
    assert "Where trainees struggle" in html
    assert 'data-grade-id="test_double"' in html and "33%" in html and "1 of 3" in html


def test_struggle_figures_take_one_query(app, session, users, graded) -> None:
    statements = []
    engine = db.engine_for(app)

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if not statement.startswith("BEGIN"):  # SQLite's BEGIN IMMEDIATE is no query
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        exercise_difficulty.cell_difficulty(session)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    session.rollback()
    assert len(statements) == 1


def test_french_grading_pages(client, auth, users, graded) -> None:
    auth.login(users.instructor)
    client.post("/language", data={"locale": "fr", "csrf_token": auth.token("/instructor/")})
    html = client.get("/instructor/grading").get_data(as_text=True)
    assert "À corriger" in html
    page = _grade(auth, graded["latest"], "explain", "-1").get_data(as_text=True)
    assert "La note ne peut pas être négative" in page


def test_cell_grade_rows_survive_a_regrade_of_another_cell(session, users, graded) -> None:
    grader = _user_id(session, users.instructor)
    manual_grading.record_grade(
        session,
        submission_id=graded["latest"],
        grade_id="review_task",
        score=1,
        comment="ok",
        grader_id=grader,
    )
    with pytest.raises(Invalid, match="above"):
        manual_grading.record_grade(
            session,
            submission_id=graded["latest"],
            grade_id="explain",
            score=9,
            comment="",
            grader_id=grader,
        )
    task = session.scalar(
        select(CellGrade).where(
            CellGrade.submission_id == graded["latest"], CellGrade.grade_id == "review_task"
        )
    )
    assert (task.score, task.comment, task.needs_manual_grade) == (1.0, "ok", False)
    session.rollback()
