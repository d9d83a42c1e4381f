"""Due dates and the late policy: the rule on constructed data (started days, percentage of the
points earned), which due date applies (extension, cohort, exercise), the gradebook's late marks
and penalised totals, and "closed" refusing a late attempt in English and French."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from lms.errors import Conflict, Invalid
from lms.models import Exercise, Submission, SubmissionPurpose, User
from lms.models.deadlines import LatePolicy
from lms.services import deadlines, gradebook, submissions, talent

DUE = datetime(2026, 12, 10, 17, 0, tzinfo=UTC)
SOURCE = (
    Path(__file__).parent.parent / "fixtures/content/exercises/squares/squares.ipynb"
).read_bytes()


@pytest.mark.parametrize(
    ("late_by", "days"),
    [
        (timedelta(0), 0),
        (-timedelta(hours=3), 0),
        (timedelta(minutes=1), 1),
        (timedelta(hours=24), 1),
        (timedelta(days=1, hours=12), 2),
        (timedelta(days=3, seconds=1), 4),
    ],
)
def test_days_late_counts_started_days(late_by, days) -> None:
    assert deadlines.days_late(DUE + late_by, DUE) == days


def test_a_day_and_a_half_late_at_ten_percent_a_day_loses_twenty_percent() -> None:
    days = deadlines.days_late(DUE + timedelta(days=1.5), DUE)
    assert days == 2
    assert deadlines.penalised(3.0, days, 10.0) == pytest.approx(2.4)
    assert deadlines.penalised(3.0, 12, 10.0) == 0.0  # never below nothing
    assert deadlines.days_late(DUE, None) == 0


def _ids(session, users) -> tuple[int, int, int]:
    trainee = session.scalar(select(User.id).where(User.email == users.trainee))
    other = session.scalar(select(User.id).where(User.email == users.other_trainee))
    instructor = session.scalar(select(User.id).where(User.email == users.instructor))
    return trainee, other, instructor


def test_the_due_date_that_applies(session, users, content) -> None:
    trainee, other, instructor = _ids(session, users)
    deadlines.set_schedule(
        session,
        "squares",
        due="2026-12-10T17:00",
        policy="penalty",
        penalty_percent="10",
        by_user_id=instructor,
    )
    cohort = talent.create_cohort(session, "spring", "Spring")
    talent.add_members(session, cohort.id, [users.trainee, users.other_trainee])
    deadlines.set_cohort_due(session, "squares", "spring", "2026-12-12T17:00", instructor)
    deadlines.grant_extension(
        session, "squares", users.trainee, "2026-12-20T09:00", "ill", instructor
    )
    squares = session.scalar(select(Exercise.id).where(Exercise.slug == "squares"))
    book = deadlines.load(session)
    assert book.due_for(squares, trainee) == datetime(2026, 12, 20, 9, 0, tzinfo=UTC)
    assert book.due_for(squares, other) == datetime(2026, 12, 12, 17, 0, tzinfo=UTC)
    late = book.lateness(squares, other, datetime(2026, 12, 14, 5, 0, tzinfo=UTC))
    assert (late.days, late.factor) == (2, pytest.approx(0.8))
    session.commit()


def test_bad_schedule_input_is_refused(session, users, content) -> None:
    _t, _o, instructor = _ids(session, users)
    for kwargs in (
        {"due": "next friday", "policy": "penalty", "penalty_percent": "10"},
        {"due": "", "policy": "sometimes", "penalty_percent": "0"},
        {"due": "", "policy": "penalty", "penalty_percent": "150"},
    ):
        with pytest.raises(Invalid):
            deadlines.set_schedule(session, "squares", by_user_id=instructor, **kwargs)


def _submit(session, user_id: int, token: str, purpose=SubmissionPurpose.GRADE) -> int:
    return submissions.submit(
        session,
        user_id=user_id,
        exercise_slug="squares",
        notebook=SOURCE,
        name="s.ipynb",
        origin="upload",
        purpose=purpose,
        token=token,
    ).submission_id


def test_the_gradebook_marks_late_attempts_and_counts_the_penalty(
    client, auth, session, users, content, run_jobs
) -> None:
    trainee, other, instructor = _ids(session, users)
    on_time, late = _submit(session, other, "o"), _submit(session, trainee, "t")
    assert run_jobs() == 2
    # Handed in 1.5 days after the due date, and 2 hours before it.
    session.execute(
        update(Submission).where(Submission.id == late).values(created_at=DUE + timedelta(days=1.5))
    )
    session.execute(
        update(Submission)
        .where(Submission.id == on_time)
        .values(created_at=DUE - timedelta(hours=2))
    )
    session.commit()
    deadlines.set_schedule(
        session,
        "squares",
        due="2026-12-10T17:00",
        policy="penalty",
        penalty_percent="10",
        by_user_id=instructor,
    )
    rows = {r.trainee.email: r for r in gradebook.matrix(session).rows}
    (late_cell,) = rows[users.trainee].cells.values()
    (on_time_cell,) = rows[users.other_trainee].cells.values()
    assert (late_cell.late_days, late_cell.score, late_cell.grader_score) == (
        2,
        pytest.approx(2.4),
        3.0,
    )
    assert (on_time_cell.late, on_time_cell.score, on_time_cell.grader_score) == (False, 3.0, None)
    # The grader's score itself is untouched.
    assert session.get(Submission, late).score == 3.0
    session.commit()
    auth.login(users.instructor)
    page = client.get("/instructor/gradebook/").get_data(as_text=True)
    assert 'title="2 days late · grader: 3">late</span>' in page
    assert page.count(">late</span>") == 1
    assert "2.4 / 3" in page
    rows = list(csv.reader(io.StringIO(client.get("/instructor/gradebook/gradebook.csv").text)))
    by_email = {row[0]: row for row in rows[1:]}
    assert by_email[users.trainee][2:] == ["2.4", "2.4", "3", "", "squares:2d"]
    assert by_email[users.other_trainee][2:] == ["3", "3", "3", "", ""]


def test_closed_refuses_a_late_attempt(session, users, content) -> None:
    trainee, _o, instructor = _ids(session, users)
    deadlines.set_schedule(
        session,
        "squares",
        due="2020-01-01T00:00",
        policy="closed",
        penalty_percent="",
        by_user_id=instructor,
    )
    with pytest.raises(Conflict, match="was due on 2020-01-01 00:00 UTC and takes no late"):
        _submit(session, trainee, "late")
    # Checking one's work stays open; an extension reopens graded attempts.
    _submit(session, trainee, "check", SubmissionPurpose.CHECK)
    deadlines.grant_extension(session, "squares", users.trainee, "2099-01-01T00:00", "", instructor)
    _submit(session, trainee, "extended")
    session.commit()


@pytest.mark.parametrize(
    ("locale", "message"),
    [
        ("en", "This exercise was due on 2020-01-01 00:00 UTC and takes no late attempt"),
        ("fr", "Cet exercice était à rendre le 2020-01-01 00:00 UTC"),
    ],
)
def test_closed_says_so_in_the_browser(client, auth, session, users, content, locale, message):
    _t, _o, instructor = _ids(session, users)
    deadlines.set_schedule(
        session,
        "squares",
        due="2020-01-01T00:00",
        policy=LatePolicy.CLOSED.value,
        penalty_percent="0",
        by_user_id=instructor,
    )
    auth.login(users.trainee)
    client.post("/language", data={"locale": locale, "csrf_token": auth.token("/")})
    page = client.get("/exercises/squares").get_data(as_text=True)
    notice = {
        "en": "Due on 2020-01-01 00:00 UTC. Late attempts are refused.",
        "fr": "À rendre le 2020-01-01 00:00 UTC. Les tentatives en retard sont refusées.",
    }[locale]
    assert notice in " ".join(page.split())
    response = client.post(
        "/exercises/squares/submissions",
        data={"csrf_token": auth.token("/exercises/squares"), "token": "late-1"},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert message in response.get_data(as_text=True), response.get_data(as_text=True)[-1500:]
    assert session.scalar(select(Submission.id)) is None
    session.commit()


def test_the_schedule_page(client, auth, session, users, content) -> None:
    talent.create_cohort(session, "spring", "Spring")
    auth.login(users.trainee)
    penalty_notice = "A late attempt loses 10 % of its points per started day late."
    assert penalty_notice not in client.get("/exercises/squares").get_data(as_text=True)
    auth.logout()
    auth.login(users.instructor)
    assert "Due dates of Squares" in client.get(
        "/instructor/gradebook/exercises/squares/schedule"
    ).get_data(as_text=True)
    base = "/instructor/gradebook/exercises/squares"
    response = auth.post(
        f"{base}/schedule", {"due": "2026-12-10T17:00", "policy": "penalty", "penalty": "10"}
    )
    assert response.status_code == 303
    auth.post(f"{base}/cohort-due", {"cohort": "spring", "due": "2026-12-11T17:00"})
    auth.post(
        f"{base}/extensions",
        {"email": users.trainee, "due": "2026-12-15T17:00", "reason": "ill"},
    )
    page = client.get(f"{base}/schedule").get_data(as_text=True)
    assert 'value="2026-12-10T17:00"' in page and 'value="2026-12-11T17:00"' in page
    assert "2026-12-15 17:00" in page and "ill" in page
    response = auth.post(f"{base}/schedule", {"due": "soon", "policy": "penalty"})
    assert "soon is not a date and time" in client.get(f"{base}/schedule").get_data(as_text=True)
    assert client.get("/instructor/gradebook/exercises/nope/schedule").status_code == 404
    auth.logout()
    auth.login(users.trainee)  # an extension of their own: their due date, the exercise's rule
    page = " ".join(client.get("/exercises/squares").get_data(as_text=True).split())
    assert "Due on 2026-12-15 17:00 UTC. " + penalty_notice in page
