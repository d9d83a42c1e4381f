"""Progress that reflects the work: an exercise is done when every autograded test passes
(whatever a person still has to grade); courses show points and percentages beside "done"."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.models import CellGrade, Exercise, GradingJob, JobStatus, Submission, User
from lms.models import SubmissionPurpose as Purpose
from lms.services import progress
from lms.services.blobs import put_blob


@pytest.fixture
def trainee(auth, users, content):
    """The signed-in trainee, with the fixture course imported (exercise squares, 3 points)."""
    auth.login(users.trainee)
    return auth


def _graded(session, email: str, cells: list[tuple[str, str, float, float]], **extra) -> None:
    """A graded attempt at `squares` with these cells (grade_id, kind, score, max_score)."""
    user_id = session.scalar(select(User.id).where(User.email == email))
    exercise = session.scalar(select(Exercise).where(Exercise.slug == "squares"))
    submission = Submission(
        user_id=user_id,
        exercise_id=exercise.id,
        purpose=extra.get("purpose", Purpose.GRADE),
        origin="browser",
        idempotency_token=f"t{len(session.scalars(select(Submission.id)).all())}",
        notebook_sha256=put_blob(session, b"{}"),
        notebook_name="squares.ipynb",
        score=sum(c[2] for c in cells),
        max_score=sum(c[3] for c in cells),
        cells=[
            CellGrade(
                grade_id=g, kind=k, score=s, max_score=m, needs_manual_grade=k != "test" and not s
            )
            for g, k, s, m in cells
        ],
    )
    session.add_all([submission, GradingJob(submission=submission, status=JobStatus.DONE)])
    session.commit()


def _with_a_manual_part(session) -> None:
    # The fixture exercise is all tests; give it a 2-point answer a person grades.
    exercise = session.scalar(select(Exercise).where(Exercise.slug == "squares"))
    exercise.max_score = 5.0
    session.commit()


TESTS_PASS = [("test_squares", "test", 2.0, 2.0), ("test_total", "test", 1.0, 1.0)]


def test_done_when_every_test_passes_with_the_manual_part_pending(
    client, trainee, session, users
) -> None:
    _with_a_manual_part(session)
    _graded(session, users.trainee, [*TESTS_PASS, ("explain", "manual", 0.0, 2.0)])
    dashboard = client.get("/learn").get_data(as_text=True)
    assert "1 of 1 exercises done" in dashboard
    assert "3 / 5 points (60%)" in dashboard
    course = client.get("/courses/intro").get_data(as_text=True)
    assert 'data-done="squares"' in course and "3 / 5 (60%)" in course
    assert "1 of 1 exercises done" in course and "3 / 5 points (60%)" in course


def test_not_done_while_a_test_fails_even_with_points(client, trainee, session, users) -> None:
    _with_a_manual_part(session)
    _graded(
        session,
        users.trainee,
        [
            ("test_squares", "test", 2.0, 2.0),
            ("test_total", "test", 0.0, 1.0),
            ("explain", "manual", 2.0, 2.0),
        ],
    )
    dashboard = client.get("/learn").get_data(as_text=True)
    assert "0 of 1 exercises done" in dashboard and "4 / 5 points (80%)" in dashboard
    course = client.get("/courses/intro").get_data(as_text=True)
    assert 'data-done="squares"' not in course and "4 / 5 (80%)" in course


def test_checks_and_other_trainees_do_not_count(client, trainee, session, users) -> None:
    _graded(session, users.trainee, TESTS_PASS, purpose=Purpose.CHECK)
    _graded(session, users.other_trainee, TESTS_PASS)
    dashboard = client.get("/learn").get_data(as_text=True)
    assert "0 of 1 exercises done" in dashboard and "0 / 3 points (0%)" in dashboard


def test_any_one_attempt_that_passes_every_test_makes_it_done(session, users, content) -> None:
    _graded(session, users.trainee, [("test_squares", "test", 0.0, 2.0), *TESTS_PASS[1:]])
    _graded(session, users.trainee, TESTS_PASS)
    _graded(session, users.trainee, [("test_squares", "test", 2.0, 2.0)])  # no test fails
    user_id = session.scalar(select(User.id).where(User.email == users.trainee))
    exercise_id = session.scalar(select(Exercise.id).where(Exercise.slug == "squares"))
    assert progress.done_exercises(session, user_id) == {exercise_id}
    (course,) = progress.dashboard(session, user_id)
    assert (course.points, course.max_points, course.points_percent) == (3.0, 3.0, 100)


def test_progress_in_french(client, trainee, session, users) -> None:
    _graded(session, users.trainee, TESTS_PASS)
    client.post("/language", data={"locale": "fr", "csrf_token": trainee.token("/learn")})
    course = client.get("/courses/intro").get_data(as_text=True)
    assert "terminé" in course and "3 / 3 points (100 %)" in course


def test_real_grading_a_wrong_answer_is_not_done(run_jobs, client, trainee) -> None:
    page = client.get("/exercises/squares").get_data(as_text=True)
    token = page.split('name="token" value="')[1].split('"')[0]
    client.post(
        "/exercises/squares/submissions",
        data={
            "csrf_token": trainee.csrf_token_from(page),
            "token": token,
            "origin": "browser",
            "action": "submit",
            "answer-squares": "def squares(n):\n    return [1]",
            "answer-total": "def total(path):\n    return 6",
        },
        headers={"Accept": "application/json"},
    )
    run_jobs()
    dashboard = client.get("/learn").get_data(as_text=True)
    assert "0 of 1 exercises done" in dashboard and "1 / 3 points (33%)" in dashboard
