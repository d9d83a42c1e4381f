"""The readiness service: rows to Evidence (attempts, sources, pending cells), and its cache."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from lms.models import (
    CellGrade,
    Exercise,
    GradingJob,
    JobStatus,
    Submission,
    SubmissionPurpose,
    SubmissionStatus,
    utcnow,
)
from lms.services import role_readiness
from lms.services.blobs import put_blob
from lms.services.results_import import import_results
from tests.talent.conftest import results_csv


def _graded(
    session,
    user_id: int,
    days_ago: float,
    cells: dict[str, tuple[float, bool]],
    status: SubmissionStatus = SubmissionStatus.GRADED,
) -> Submission:
    exercise = session.scalar(select(Exercise).where(Exercise.slug == "squares"))
    at = utcnow() - timedelta(days=days_ago)
    submission = Submission(
        user_id=user_id,
        exercise_id=exercise.id,
        purpose=SubmissionPurpose.GRADE,
        origin="upload",
        idempotency_token=f"t{days_ago}-{status}",
        notebook_sha256=put_blob(session, b"{}"),
        notebook_name="s.ipynb",
        rejected=status is SubmissionStatus.REJECTED,
        created_at=at,
        graded_at=at,
        cells=[
            CellGrade(
                grade_id=grade_id,
                kind="test",
                score=score,
                max_score=2.0,
                needs_manual_grade=pending,
            )
            for grade_id, (score, pending) in cells.items()
        ],
    )
    # The status is the job's: graded and rejected are done, the others are their own state.
    job_status = {
        SubmissionStatus.GRADED: JobStatus.DONE,
        SubmissionStatus.REJECTED: JobStatus.DONE,
    }
    session.add_all(
        [
            submission,
            GradingJob(
                submission=submission, status=job_status.get(status) or JobStatus(status.value)
            ),
        ]
    )
    session.commit()
    return submission


def test_attempts_are_numbered_across_sources_in_date_order(session, users, content) -> None:
    from lms.models import User

    uid = session.scalar(select(User.id).where(User.email == users.trainee))
    first = _graded(session, uid, 5, {"test_squares": (1.0, False)})
    at = (utcnow() - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    import_results(
        session,
        results_csv([(users.trainee, "squares", "test_squares", 2, 2, at, "practice")]),
        "other-lms.csv",
    )
    third = _graded(session, uid, 1, {"test_squares": (2.0, False), "test_total": (0.0, True)})
    _graded(session, uid, 0.5, {"test_squares": (2.0, False)}, SubmissionStatus.FAILED)
    evidence = sorted(role_readiness.load_evidence(session)[uid], key=lambda e: e.at)
    assert [(e.attempt, e.kind, e.submission_id) for e in evidence] == [
        (1, "practice", first.id),
        (2, "practice", f"import:{evidence[1].at.isoformat()}"),
        (3, "practice", third.id),
    ]
    assert [e.after_feedback for e in evidence] == [False, True, True]
    # The pending hand-graded cell and the failed grading gave no evidence.
    assert {e.grade_id for e in evidence} == {"test_squares"}


def test_trainees_without_evidence_are_scored(session, users, content) -> None:
    ranked = role_readiness.role_readiness(session, "junior-dev")
    assert {c.trainee.email for c in ranked} == {users.trainee, users.other_trainee}
    assert {c.readiness.status for c in ranked} == {"not enough evidence"}
    assert role_readiness.role_readiness(session, "astronaut") is None


def test_cohort_figures_are_reused_until_the_data_changes(session, world, users) -> None:
    role_readiness.cache.clear()
    before = role_readiness.cohort_readiness(session)
    again = role_readiness.cohort_readiness(session)
    # Unchanged data: every figure is the one kept, not scored again.
    assert all(
        again.by_trainee[tid][role] is figure
        for tid, roles in before.by_trainee.items()
        for role, figure in roles.items()
    )
    at = (utcnow() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    import_results(
        session,
        results_csv([(users.other_trainee, "squares", "test_squares", 2, 2, at, "practice")]),
        "more.csv",
    )
    after = role_readiness.cohort_readiness(session)
    other = world.other_id
    assert (
        after.by_trainee[other]["junior-dev"].score > before.by_trainee[other]["junior-dev"].score
    )
    # Only the trainee with a new result was scored again.
    mine = world.trainee_id
    assert after.by_trainee[mine]["junior-dev"] is before.by_trainee[mine]["junior-dev"]
