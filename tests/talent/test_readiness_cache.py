"""The per-trainee readiness cache: after any new result, every figure it serves equals a full
recomputation (as of the figure's moment, with its epoch's difficulties), and only the trainees
whose evidence changed are scored again."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select

from lms import readiness
from lms.models import (
    CellGrade,
    Exercise,
    GradingJob,
    JobStatus,
    Submission,
    SubmissionPurpose,
    User,
    utcnow,
)
from lms.services import evidence_integrity, role_readiness
from lms.services.blobs import put_blob
from lms.services.results_import import import_results
from tests.talent.conftest import results_csv

NOTEBOOK = Path(__file__).parents[1] / "fixtures" / "content" / "exercises" / "squares"
_tokens = itertools.count()


def _graded(session, user_id: int, slug: str, days_ago: float, scores: dict, notebook: bytes):
    """A graded submission of `slug` with these cell scores (out of 2), as the grader leaves it."""
    exercise = session.scalar(select(Exercise).where(Exercise.slug == slug))
    at = utcnow() - timedelta(days=days_ago)
    submission = Submission(
        user_id=user_id,
        exercise_id=exercise.id,
        purpose=SubmissionPurpose.GRADE,
        origin="upload",
        idempotency_token=f"cache-{next(_tokens)}",
        notebook_sha256=put_blob(session, notebook),
        notebook_name="s.ipynb",
        created_at=at,
        graded_at=utcnow(),  # graded now, whatever the date it was handed in
        cells=[
            CellGrade(
                grade_id=grade_id, kind="test", score=score, max_score=2.0, needs_manual_grade=False
            )
            for grade_id, score in scores.items()
        ],
    )
    session.add_all([submission, GradingJob(submission=submission, status=JobStatus.DONE)])
    session.commit()
    return submission.id


def _answer(text: str) -> bytes:
    """The fixture notebook with `text` as its first code cell: a notebook of its own."""
    notebook = json.loads((NOTEBOOK / "squares.ipynb").read_text())
    cell = next(c for c in notebook["cells"] if c["cell_type"] == "code")
    cell["source"] = text
    return json.dumps(notebook).encode()


def _recomputed(session, cohort) -> dict[int, dict]:
    """Each trainee's figures computed from scratch, as of the cached figure's moment, with the
    difficulties of the cache's epoch."""
    store = next(iter(role_readiness.cache._stores.values()))
    evidence = role_readiness.load_evidence(session)
    flags = evidence_integrity.flags_by_trainee(session)
    out = {}
    for tid in cohort.trainees:
        entry = store.entries[tid]
        scored = readiness.score_trainee(
            evidence.get(tid, ()), cohort.roles, entry.as_of, difficulties=store.epoch.difficulties
        )
        out[tid] = (
            {role: figure.as_json() for role, figure in scored.items()},
            [f.as_json() for f in flags.get(tid, ())],
        )
    return out


def _cached(cohort) -> dict[int, dict]:
    return {
        tid: (
            {role: figure.as_json() for role, figure in roles.items()},
            [f.as_json() for f in cohort.flags.get(tid, ())],
        )
        for tid, roles in cohort.by_trainee.items()
    }


def test_a_new_result_rescores_only_its_trainee_and_equals_a_recomputation(
    session, world, users
) -> None:
    role_readiness.cache.clear()
    before = role_readiness.cohort_readiness(session)
    _graded(session, world.other_id, "squares", 0.5, {"test_squares": 2.0}, _answer("x = 1"))
    after = role_readiness.cohort_readiness(session)
    other, mine = world.other_id, world.trainee_id
    assert after.by_trainee[mine]["junior-dev"] is before.by_trainee[mine]["junior-dev"]
    assert after.by_trainee[other]["junior-dev"] is not before.by_trainee[other]["junior-dev"]
    assert (
        after.by_trainee[other]["junior-dev"].score > before.by_trainee[other]["junior-dev"].score
    )
    assert _cached(after) == _recomputed(session, after)


def test_a_copy_found_later_rescores_the_trainee_copied(session, world, users) -> None:
    role_readiness.cache.clear()
    answer = _answer("def squares(n):\n    return [i * i for i in range(1, n + 1)]")
    _graded(session, world.trainee_id, "cubes", 1, {"test_squares": 2.0}, answer)
    first = role_readiness.cohort_readiness(session)
    assert not first.flags.get(world.trainee_id)
    # The other trainee hands in the same answers: both submissions are flagged as copies.
    _graded(session, world.other_id, "cubes", 0.5, {"test_squares": 2.0}, answer)
    after = role_readiness.cohort_readiness(session)
    assert [f.kind for f in after.flags[world.trainee_id]] == ["copy"]
    assert _cached(after) == _recomputed(session, after)


def test_a_clearance_and_an_imported_result_rescore_their_trainee(session, world, users) -> None:
    role_readiness.cache.clear()
    answer = _answer("print('shared')")
    copied = _graded(session, world.trainee_id, "cubes", 1, {"test_squares": 2.0}, answer)
    _graded(session, world.other_id, "cubes", 0.5, {"test_squares": 2.0}, answer)
    flagged = role_readiness.cohort_readiness(session)
    instructor = session.scalar(select(User.id).where(User.email == users.instructor))
    evidence_integrity.clear_flags(session, copied, instructor)
    session.commit()
    cleared = role_readiness.cohort_readiness(session)
    assert cleared.flags[world.trainee_id][0].cleared
    mine = world.trainee_id
    assert cleared.by_trainee[mine]["junior-dev"] is not flagged.by_trainee[mine]["junior-dev"]
    at = (utcnow() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    import_results(
        session,
        results_csv([(users.other_trainee, "squares", "test_total", 1, 1, at, "practice")]),
        "late.csv",
    )
    imported = role_readiness.cohort_readiness(session)
    assert imported.by_trainee[mine]["junior-dev"] is cleared.by_trainee[mine]["junior-dev"]
    assert _cached(imported) == _recomputed(session, imported)


def test_old_epochs_are_brought_up_to_date_a_few_trainees_per_call(session, world) -> None:
    role_readiness.cache.clear()
    saved = role_readiness.cache.max_age, role_readiness.cache.refresh_per_call
    role_readiness.cache.max_age, role_readiness.cache.refresh_per_call = timedelta(0), 1
    try:
        first = role_readiness.cohort_readiness(session)
        second = role_readiness.cohort_readiness(session)  # a new epoch: one trainee refreshed
        refreshed = [
            tid
            for tid in first.trainees
            if second.by_trainee[tid]["junior-dev"] is not first.by_trainee[tid]["junior-dev"]
        ]
        assert len(refreshed) == 1
        third = role_readiness.cohort_readiness(session)
        assert all(
            third.by_trainee[tid]["junior-dev"] is not first.by_trainee[tid]["junior-dev"]
            for tid in first.trainees
        )
    finally:
        role_readiness.cache.max_age, role_readiness.cache.refresh_per_call = saved


def test_results_inside_the_margin_are_read_once_and_a_regrade_is_found(session, world) -> None:
    """Results graded within the look-back margin are found again on every view; once a
    trainee's figures count them, they are not read again, until one of them changes."""
    role_readiness.cache.clear()
    mine = _graded(session, world.trainee_id, "squares", 1, {"test_squares": 2.0}, _answer("a"))
    _graded(session, world.other_id, "squares", 1, {"test_squares": 1.0}, _answer("b"))
    role_readiness.cohort_readiness(session)  # the first view scores everyone
    counted = role_readiness.cohort_readiness(session)  # reads the margin's results once more
    statements: list[str] = []
    engine = session.get_bind()

    def keep(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", keep)
    try:
        again = role_readiness.cohort_readiness(session)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    assert again.by_trainee == counted.by_trainee
    # Neither trainee's evidence was read: no per-trainee figures, no cells.
    assert not [s for s in statements if "GROUP BY submissions.user_id" in s]
    assert not [s for s in statements if "FROM cell_grades" in s]
    # The grader scores the same submission again (a re-grade): it is found and counted.
    submission = session.get(Submission, mine)
    submission.graded_at = utcnow()
    submission.cells[0].score = 0.0
    session.commit()
    regraded = role_readiness.cohort_readiness(session)
    assert regraded.by_trainee[world.trainee_id]["junior-dev"].score < (
        again.by_trainee[world.trainee_id]["junior-dev"].score
    )
    assert regraded.by_trainee[world.other_id] == again.by_trainee[world.other_id]
    assert _cached(regraded) == _recomputed(session, regraded)


# One step of a random history: who, which exercise, how long ago, the two cells' scores, and
# whether the notebook is a copy of the previous step's.
_STEP = st.tuples(
    st.integers(0, 1),
    st.sampled_from(["squares", "cubes", "squares-check"]),
    st.floats(0.0, 30.0),
    st.integers(0, 2),
    st.integers(0, 2),
    st.booleans(),
)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(_STEP, min_size=1, max_size=4))
def test_cached_figures_equal_a_full_recomputation_over_random_results(
    session, world, steps
) -> None:
    role_readiness.cache.clear()
    role_readiness.cohort_readiness(session)
    trainees = (world.trainee_id, world.other_id)
    previous = _answer("start")
    for who, slug, days_ago, squares, total, copy in steps:
        notebook = previous if copy else _answer(f"x = {next(_tokens)}")
        _graded(
            session,
            trainees[who],
            slug,
            days_ago,
            {"test_squares": float(squares), "test_total": float(total)},
            notebook,
        )
        previous = notebook
        cohort = role_readiness.cohort_readiness(session)
        assert _cached(cohort) == _recomputed(session, cohort)
