"""The gradebook: the matrix's numbers, its CSV, a trainee's attempts, overriding a cell's score
(kept beside the grader's, audited, counted by readiness), refusals, and a bounded query count."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from lms.models import (
    CellGrade,
    Exercise,
    ExerciseKind,
    GradingJob,
    JobStatus,
    Submission,
    SubmissionPurpose,
    User,
    UserRole,
)
from lms.models.audit import AuditEvent
from lms.models.evidence import FlagClearance
from lms.models.gradebook import GradeOverride
from lms.services import gradebook, readiness_cache, role_readiness, talent
from lms.services.blobs import put_blob


def _user_id(session, email: str) -> int:
    return session.scalar(select(User.id).where(User.email == email))


def _graded(session, user_id: int, exercise_id: int, cells: dict, flags=(), token="") -> int:
    """A graded attempt as the grader leaves it: cells {grade_id: (score, max)}, job done."""
    sha = put_blob(session, f'{{"attempt": "{token}"}}'.encode())
    row = Submission(
        user_id=user_id,
        exercise_id=exercise_id,
        purpose=SubmissionPurpose.GRADE,
        origin="upload",
        idempotency_token=token,
        notebook_sha256=sha,
        notebook_name="s.ipynb",
        score=sum(s for s, _m in cells.values()),
        max_score=sum(m for _s, m in cells.values()),
        flags=list(flags),
        cells=[
            CellGrade(grade_id=g, kind="test", score=s, max_score=m, needs_manual_grade=False)
            for g, (s, m) in cells.items()
        ],
    )
    session.add(row)
    session.flush()
    session.add(GradingJob(submission_id=row.id, status=JobStatus.DONE))
    session.commit()
    return row.id


@pytest.fixture
def book(session, users, content):
    """Two trainees, two exercises: the first trainee tried squares twice (2 then 3 of 3) and was
    flagged once; the other scored 1 of 3 at squares and 4 of 5 at "extra"."""
    squares = session.scalar(select(Exercise).where(Exercise.slug == "squares"))
    extra = Exercise(
        slug="extra",
        title="Extra",
        kind=ExerciseKind.PRACTICE,
        notebook_name="extra.ipynb",
        source_sha256=squares.source_sha256,
        release_sha256=squares.release_sha256,
        max_score=5.0,
    )
    session.add(extra)
    session.commit()
    trainee, other = _user_id(session, users.trainee), _user_id(session, users.other_trainee)
    ids = {
        "first": _graded(
            session,
            trainee,
            squares.id,
            {"test_squares": (1.0, 2.0), "test_total": (1.0, 1.0)},
            flags=["copied:42"],
            token="a",
        ),
        "best": _graded(
            session,
            trainee,
            squares.id,
            {"test_squares": (2.0, 2.0), "test_total": (1.0, 1.0)},
            token="b",
        ),
        "other": _graded(
            session,
            other,
            squares.id,
            {"test_squares": (0.0, 2.0), "test_total": (1.0, 1.0)},
            token="c",
        ),
        "extra": _graded(session, other, extra.id, {"only": (4.0, 5.0)}, token="d"),
    }
    ids.update(trainee_id=trainee, other_id=other, squares_id=squares.id, extra_id=extra.id)
    return ids


def _by_email(matrix: gradebook.Matrix) -> dict[str, dict[str, tuple]]:
    slugs = {e.id: e.slug for e in matrix.exercises}
    return {
        row.trainee.email: {
            slugs[eid]: (c.score, c.max_score, c.attempts, c.flags, c.submission_id)
            for eid, c in row.cells.items()
        }
        | {"total": row.total}
        for row in matrix.rows
    }


def test_the_matrix_has_the_best_score_per_exercise_and_totals(session, users, book) -> None:
    matrix = gradebook.matrix(session)
    assert [e.slug for e in matrix.exercises] == ["extra", "squares"]
    assert matrix.max_total == 8.0
    assert _by_email(matrix) == {
        users.other_trainee: {
            "extra": (4.0, 5.0, 1, (), book["extra"]),
            "squares": (1.0, 3.0, 1, (), book["other"]),
            "total": 5.0,
        },
        users.trainee: {
            "squares": (3.0, 3.0, 2, ("copied:42",), book["best"]),
            "total": 3.0,
        },
    }
    session.rollback()


def test_a_cleared_flag_is_not_marked(session, users, book) -> None:
    session.add(FlagClearance(submission_id=book["first"], by_user_id=None, note="fine"))
    session.commit()
    assert _by_email(gradebook.matrix(session))[users.trainee]["squares"][3] == ()
    session.rollback()


def test_a_cohort_narrows_the_matrix(session, users, book) -> None:
    cohort = talent.create_cohort(session, "spring", "Spring")
    talent.add_members(session, cohort.id, [users.other_trainee])
    assert list(_by_email(gradebook.matrix(session, "spring"))) == [users.other_trainee]
    session.rollback()


def test_the_gradebook_pages(client, auth, users, session, book) -> None:
    auth.login(users.instructor)
    page = client.get("/instructor/gradebook/").get_data(as_text=True)
    assert "3 / 3" in page and "4 / 5" in page and "⚑" in page
    assert f"/instructor/gradebook/trainees/{book['trainee_id']}" in page
    mine = client.get(f"/instructor/gradebook/trainees/{book['trainee_id']}")
    assert mine.status_code == 200
    text = mine.get_data(as_text=True)
    assert f"/submissions/{book['first']}" in text and "copied:42" in text
    assert f'data-submission="{book["best"]}"' in text
    assert client.get("/instructor/gradebook/?cohort=nope").status_code == 404
    # Not a trainee's record: the instructor's own id.
    assert (
        client.get(
            f"/instructor/gradebook/trainees/{_user_id(session, users.instructor)}"
        ).status_code
        == 404
    )
    session.rollback()


def test_the_page_is_in_french(client, auth, users, book) -> None:
    auth.login(users.instructor)
    client.post("/language", data={"locale": "fr", "csrf_token": auth.token("/account/password")})
    page = client.get("/instructor/gradebook/")
    assert "Carnet de notes" in page.get_data(as_text=True)


def test_the_csv(client, auth, users, session, book) -> None:
    session.execute(
        User.__table__.update()
        .where(User.id == book["other_id"])
        .values(display_name="=HYPERLINK(1)")
    )
    session.commit()
    auth.login(users.admin)
    response = client.get("/instructor/gradebook/gradebook.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == [
        "E-mail",
        "Name",
        "extra",
        "squares",
        "Total",
        "Out of",
        "Integrity flags",
        "Late (days)",
    ]
    assert rows[1] == [users.other_trainee, "'=HYPERLINK(1)", "4", "1", "5", "8", "", ""]
    assert rows[2][0] == users.trainee
    assert rows[2][2:] == ["", "3", "3", "8", "squares:copied:42", ""]
    assert (
        session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "export.gradebook")
        )
        == 1
    )
    session.rollback()


def test_the_csv_header_is_in_the_readers_language(client, auth, users, book) -> None:
    auth.login(users.instructor)
    client.post("/language", data={"locale": "fr", "csrf_token": auth.token("/account/password")})
    response = client.get("/instructor/gradebook/gradebook.csv")
    header = next(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert header[:2] == ["E-mail", "Nom"] and header[-4:] == [
        "Total",
        "Sur",
        "Alertes d'intégrité",
        "En retard (jours)",
    ]


def _override(auth, submission_id: int, grade_id: str, score: str, reason: str):
    return auth.post(
        f"/instructor/gradebook/submissions/{submission_id}",
        {"grade_id": grade_id, "score": score, "reason": reason},
    )


def _cells(session, submission_id: int) -> dict:
    session.expire_all()
    row = session.get(Submission, submission_id)
    state = {c.grade_id: (c.score, c.auto_score) for c in row.cells}
    state["total"] = row.score
    session.rollback()
    return state


def test_an_override_wins_keeps_the_graders_score_and_is_audited(
    client, auth, users, session, book
) -> None:
    version = readiness_cache.trainee_versions(session, [book["other_id"]])
    session.rollback()
    auth.login(users.instructor)
    response = _override(auth, book["other"], "test_squares", "1,5", "Regex too strict")
    assert response.status_code == 302
    assert _cells(session, book["other"]) == {
        "test_squares": (1.5, 0.0),
        "test_total": (1.0, None),
        "total": 2.5,
    }
    override = session.scalar(select(GradeOverride))
    assert (override.grade_id, override.grader_score, override.before, override.score) == (
        "test_squares",
        0.0,
        0.0,
        1.5,
    )
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "grade.override"))
    assert event.subject_email == users.other_trainee and event.actor_email == users.instructor
    assert event.detail["reason"] == "Regex too strict" and event.detail["after"] == 1.5
    session.rollback()
    # A second override: the grader's score is still the grader's; history keeps both.
    assert _override(auth, book["other"], "test_squares", "2", "Second look").status_code == 302
    assert _cells(session, book["other"])["test_squares"] == (2.0, 0.0)
    page = client.get(f"/instructor/gradebook/submissions/{book['other']}").get_data(as_text=True)
    assert "Regex too strict" in page and "Second look" in page
    # The matrix, the trainee's result and readiness count the override.
    matrix = gradebook.matrix(session)
    assert _by_email(matrix)[users.other_trainee]["squares"][0] == 3.0
    assert "*" in client.get("/instructor/gradebook/").get_data(as_text=True)
    evidence = role_readiness.load_evidence(session, [book["other_id"]])[book["other_id"]]
    assert {e.score for e in evidence if e.grade_id == "test_squares"} == {2.0}
    # Cached readiness is recomputed: the override changes what it depends on.
    assert readiness_cache.trainee_versions(session, [book["other_id"]]) != version
    session.rollback()
    auth.logout()
    auth.login(users.other_trainee)
    status = client.get(f"/submissions/{book['other']}.json").get_json()
    assert status["score"] == 3.0


@pytest.mark.parametrize(
    "grade_id, score, reason, status, message",
    [
        ("test_squares", "-1", "why", 400, "cannot be negative"),
        ("test_squares", "2.5", "why", 400, "cannot be above"),
        ("test_squares", "abc", "why", 400, "must be a number"),
        ("test_squares", "1", "   ", 400, "reason is required"),
        ("nope", "1", "why", 400, "has no grade cell nope"),
    ],
)
def test_bad_overrides_change_nothing(
    client, auth, users, session, book, grade_id, score, reason, status, message
) -> None:
    before = _cells(session, book["other"])
    auth.login(users.instructor)
    response = _override(auth, book["other"], grade_id, score, reason)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert _cells(session, book["other"]) == before
    assert session.scalar(select(func.count()).select_from(GradeOverride)) == 0
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0
    session.rollback()


def test_a_refusal_is_in_french(client, auth, users, book) -> None:
    auth.login(users.instructor)
    client.post("/language", data={"locale": "fr", "csrf_token": auth.token("/account/password")})
    response = _override(auth, book["other"], "test_squares", "1", "")
    assert "motif est obligatoire" in response.get_data(as_text=True)


def test_an_unknown_or_ungraded_submission_is_refused(client, auth, users, session, book) -> None:
    auth.login(users.instructor)
    assert _override(auth, 999999, "test_squares", "1", "why").status_code == 404
    queued = _graded(
        session, book["trainee_id"], book["squares_id"], {"test_squares": (0.0, 2.0)}, token="q"
    )
    session.execute(
        GradingJob.__table__.update()
        .where(GradingJob.submission_id == queued)
        .values(status=JobStatus.QUEUED)
    )
    session.commit()
    response = _override(auth, queued, "test_squares", "1", "why")
    assert response.status_code == 409 and "Only a graded attempt" in response.get_data(
        as_text=True
    )
    assert session.scalar(select(func.count()).select_from(GradeOverride)) == 0
    session.rollback()


def test_trainees_and_recruiters_cannot_override(client, auth, users, session, book) -> None:
    for email in (users.other_trainee, users.trainee, users.recruiter):
        auth.login(email)
        assert _override(auth, book["other"], "test_squares", "2", "mine").status_code == 403
        auth.logout()
    assert session.scalar(select(func.count()).select_from(GradeOverride)) == 0
    session.rollback()


def _add_trainees(session, n: int, book: dict) -> None:
    for i in range(n):
        user = User(email=f"t{i}@example.org", role=UserRole.TRAINEE, password_hash="x")
        session.add(user)
        session.flush()
        for j, exercise in enumerate(("squares", "extra")):
            sid = _graded(
                session,
                user.id,
                book[f"{exercise}_id"],
                {"test_squares": (1.0, 2.0)},
                flags=["copied:1"] if i % 2 else [],
                token=f"{i}-{j}",
            )
            if i % 3 == 0:
                gradebook.override(
                    session,
                    submission_id=sid,
                    grade_id="test_squares",
                    score=2,
                    reason="r",
                    by_user_id=None,
                )


def test_the_pages_cost_a_constant_number_of_queries(
    app, client, auth, users, session, book
) -> None:
    from tests.talent.test_query_count import counting

    auth.login(users.instructor)
    pages = (
        "/instructor/gradebook/",
        "/instructor/gradebook/gradebook.csv",
        f"/instructor/gradebook/trainees/{book['trainee_id']}",
    )

    def counts() -> dict[str, int]:
        found = {}
        for page in pages:
            client.get(page)
            with counting(app) as statements:
                assert client.get(page).status_code == 200
            found[page] = len(statements)
        return found

    few = counts()
    _add_trainees(session, 12, book)
    for i in range(5):
        _graded(session, book["trainee_id"], book["extra_id"], {"only": (1.0, 5.0)}, token=f"m{i}")
    assert counts() == few
    # Constant is what matters (above); the cap catches a page that grows a loop of queries.
    assert max(few.values()) <= 12, few
