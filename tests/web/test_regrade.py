"""Regrading after a test fix: through the real queue and grader, the new score replaces the old
one, the old one stays in the history, a person's override survives (and is reported), a
notebook the grader now refuses keeps its old score, and only staff may regrade."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from lms.models import (
    CellGrade,
    Exercise,
    GradingJob,
    JobStatus,
    Submission,
    SubmissionPurpose,
    SubmissionStatus,
    User,
)
from lms.models.regrades import RegradeItem, RegradeStatus
from lms.services import gradebook, regrades, submissions
from lms.services.blobs import put_blob
from lms.services.content_import import import_content

FIXED = "assert squares(3) == [0, 1, 4]\n"
BROKEN = "assert squares(3) == [0, 1, 5]  # a typo in the test\n"


def _set_test(tree: Path, source: str) -> None:
    """Rewrite the visible part of the squares exercise's test_squares cell."""
    path = tree / "exercises" / "squares" / "squares.ipynb"
    notebook = json.loads(path.read_text())
    for cell in notebook["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "test_squares":
            hidden = "".join(cell["source"]).split("### BEGIN HIDDEN TESTS", 1)[1]
            cell["source"] = source + "### BEGIN HIDDEN TESTS" + hidden
    path.write_text(json.dumps(notebook, indent=1))


@pytest.fixture
def tree(tmp_path, fixture_content) -> Path:
    """A copy of the fixture content whose squares test has a typo (a right answer fails it)."""
    copy = tmp_path / "content"
    shutil.copytree(fixture_content, copy)
    _set_test(copy, BROKEN)
    return copy


@pytest.fixture
def graded(session, users, tree, run_jobs) -> dict:
    """The broken exercise imported, the trainee's right answer graded 1 of 3 by it."""
    import_content(session, tree)
    trainee = session.scalar(select(User).where(User.email == users.trainee))
    source = (tree / "exercises" / "squares" / "squares.ipynb").read_bytes()
    queued = submissions.submit(
        session,
        user_id=trainee.id,
        exercise_slug="squares",
        notebook=source,
        name="squares.ipynb",
        origin="upload",
        purpose=SubmissionPurpose.GRADE,
        token="right-answer",
    )
    assert run_jobs() == 1
    row = session.get(Submission, queued.submission_id)
    session.refresh(row)
    assert (row.status, row.score, row.max_score) == (SubmissionStatus.GRADED, 1.0, 3.0)
    session.commit()
    return {"submission_id": row.id, "trainee_id": trainee.id}


def _staff_id(session, email: str) -> int:
    return session.scalar(select(User.id).where(User.email == email))


def _cells(session, submission_id: int) -> dict[str, tuple]:
    session.expire_all()
    row = session.get(Submission, submission_id)
    result = {c.grade_id: (c.score, c.auto_score, c.manually_graded) for c in row.cells}
    session.commit()
    return result


def test_a_regrade_after_a_test_fix_changes_the_score_and_keeps_the_old_one(
    session, users, tree, graded, run_jobs
) -> None:
    _set_test(tree, FIXED)
    import_content(session, tree)
    requested = regrades.regrade_exercise(session, "squares", _staff_id(session, users.instructor))
    progress = regrades.progress(session, requested.run_id)
    assert (progress.total, progress.done, progress.finished) == (1, 0, False)
    session.commit()
    # While it waits, the gradebook still shows the old score.
    (row,) = [r for r in gradebook.matrix(session).rows if r.trainee.email == users.trainee]
    assert [c.score for c in row.cells.values()] == [1.0]
    session.commit()

    assert run_jobs() == 1
    session.expire_all()
    row = session.get(Submission, graded["submission_id"])
    assert (row.status, row.score, row.rejected) == (SubmissionStatus.GRADED, 3.0, False)
    (item,) = regrades.history(session, row.id)
    assert item.status is RegradeStatus.REGRADED
    assert (item.old_score, item.old_max_score, item.new_score) == (1.0, 3.0, 3.0)
    assert {c["grade_id"]: c["score"] for c in item.old_cells} == {
        "test_squares": 0.0,
        "test_total": 1.0,
    }
    progress = regrades.progress(session, requested.run_id)
    assert (progress.done, progress.regraded, progress.failed, progress.finished) == (
        1,
        1,
        0,
        True,
    )
    session.commit()


def test_an_override_survives_a_regrade_and_is_reported(
    session, users, tree, graded, run_jobs
) -> None:
    instructor = _staff_id(session, users.instructor)
    gradebook.override(
        session,
        submission_id=graded["submission_id"],
        grade_id="test_total",
        score="0.5",
        reason="Hard-coded the answer",
        by_user_id=instructor,
    )
    _set_test(tree, FIXED)
    import_content(session, tree)
    regrades.regrade_submission(session, graded["submission_id"], instructor)
    assert run_jobs() == 1
    cells = _cells(session, graded["submission_id"])
    # The fixed test now passes; the person's 0.5 stands over the grader's new 1.
    assert cells == {"test_squares": (2.0, None, False), "test_total": (0.5, 1.0, True)}
    row = session.get(Submission, graded["submission_id"])
    assert row.score == 2.5
    (item,) = regrades.history(session, row.id)
    assert (item.kept_by_hand, item.dropped_by_hand) == (["test_total"], [])
    assert item.old_score == 0.5 and item.new_score == 2.5
    session.commit()


def test_a_notebook_the_grader_now_refuses_keeps_its_old_score(
    session, users, content, run_jobs
) -> None:
    """A stored attempt that no longer parses as a notebook: the regrade fails, says why, and
    the submission keeps its score and cells."""
    squares = session.scalar(select(Exercise).where(Exercise.slug == "squares"))
    trainee = session.scalar(select(User.id).where(User.email == users.trainee))
    row = Submission(
        user_id=trainee,
        exercise_id=squares.id,
        purpose=SubmissionPurpose.GRADE,
        origin="upload",
        idempotency_token="old",
        notebook_sha256=put_blob(session, b"{ this is not a notebook"),
        notebook_name="old.ipynb",
        score=2.0,
        max_score=3.0,
        cells=[
            CellGrade(
                grade_id="test_squares",
                kind="test",
                score=2.0,
                max_score=2.0,
                needs_manual_grade=False,
            ),
            CellGrade(
                grade_id="test_total",
                kind="test",
                score=0.0,
                max_score=1.0,
                needs_manual_grade=False,
            ),
        ],
    )
    session.add(row)
    session.flush()
    session.add(GradingJob(submission_id=row.id, status=JobStatus.DONE))
    session.commit()
    requested = regrades.regrade_exercise(session, "squares", trainee)
    assert run_jobs() == 1
    session.expire_all()
    row = session.get(Submission, row.id)
    assert (row.status, row.score, row.rejected) == (SubmissionStatus.GRADED, 2.0, False)
    assert sorted((c.grade_id, c.score) for c in row.cells) == [
        ("test_squares", 2.0),
        ("test_total", 0.0),
    ]
    (item,) = regrades.history(session, row.id)
    assert item.status is RegradeStatus.FAILED and item.error
    assert item.old_score == 2.0 and item.new_score is None
    progress = regrades.progress(session, requested.run_id)
    assert (progress.done, progress.failed, progress.finished) == (1, 1, True)
    session.commit()


def test_the_pages_show_progress_and_history(
    client, auth, session, users, tree, graded, run_jobs
) -> None:
    auth.login(users.instructor)
    _set_test(tree, FIXED)
    import_content(session, tree)
    response = auth.post("/instructor/gradebook/regrade", {"exercise": "squares"})
    assert response.status_code == 303
    run_page = response.headers["Location"]
    page = client.get(run_page).get_data(as_text=True)
    assert "0 of 1 done" in page and 'data-finished="false"' in page
    assert client.get(run_page + ".json").get_json()["done"] == 0
    assert "0 of 1 done" in client.get("/instructor/gradebook/").get_data(as_text=True)
    assert run_jobs() == 1
    assert client.get(run_page + ".json").get_json() == {
        "id": int(run_page.rsplit("/", 1)[1]),
        "exercise": "squares",
        "total": 1,
        "done": 1,
        "regraded": 1,
        "failed": 0,
        "finished": True,
    }
    page = client.get(run_page).get_data(as_text=True)
    assert "1 of 1 done" in page and "Regraded" in page
    history = client.get(f"/instructor/gradebook/submissions/{graded['submission_id']}")
    text = history.get_data(as_text=True)
    assert 'id="regrade-history"' in text and '<td class="regrade-before">1 / 3</td>' in text
    # Nothing graded to regrade: a clear refusal, nothing queued.
    response = auth.post("/instructor/gradebook/regrade", {"exercise": "nope"})
    assert response.status_code == 303
    assert "There is no exercise nope." in client.get("/instructor/gradebook/").get_data(
        as_text=True
    )


def test_french_pages(client, auth, session, users, tree, graded, run_jobs) -> None:
    auth.login(users.instructor)
    client.post("/language", data={"locale": "fr", "csrf_token": auth.token("/")})
    response = auth.post(f"/instructor/gradebook/submissions/{graded['submission_id']}/regrade")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "0 sur 1 terminé" in page and "Recorrection de Carrés" in page
    run_jobs()
    text = client.get(f"/instructor/gradebook/submissions/{graded['submission_id']}").get_data(
        as_text=True
    )
    assert "Historique des recorrections" in text


@pytest.mark.parametrize("role", ["trainee", "recruiter"])
def test_only_staff_may_regrade(client, auth, session, users, graded, role) -> None:
    auth.login(getattr(users, role))
    sid = graded["submission_id"]
    assert auth.post(f"/instructor/gradebook/submissions/{sid}/regrade").status_code == 403
    assert auth.post("/instructor/gradebook/regrade", {"exercise": "squares"}).status_code == 403
    assert client.get("/instructor/gradebook/regrades/1").status_code == 403
    assert client.get("/instructor/gradebook/regrades/1.json").status_code == 403
    assert session.scalar(select(RegradeItem.id)) is None
    session.commit()


def test_a_grader_failing_for_good_on_a_regrade_keeps_the_old_score(session, users, graded) -> None:
    """The job's life cycle as the workers drive it: claimed and failed MAX_ATTEMPTS times."""
    from lms.services import grading_jobs

    requested = regrades.regrade_submission(
        session, graded["submission_id"], _staff_id(session, users.instructor)
    )
    (job_id,) = requested.job_ids
    for attempt in range(grading_jobs.MAX_ATTEMPTS):
        assert grading_jobs.claim(session, job_id, f"w{attempt}")
        grading_jobs.record_failure(session, job_id, "Traceback: the sandbox vanished")
    session.expire_all()
    row = session.get(Submission, graded["submission_id"])
    assert (row.status, row.score, row.error) == (SubmissionStatus.GRADED, 1.0, None)
    (item,) = regrades.history(session, row.id)
    assert item.status is RegradeStatus.FAILED and "the sandbox vanished" in item.error
    assert regrades.progress(session, requested.run_id).finished
    session.commit()
