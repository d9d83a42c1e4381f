"""Handing in a notebook: stored unchanged (content-addressed), with its grading job queued."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from grading import cells
from lms.errors import Conflict, Invalid, NotFound, TooMany
from lms.i18n import N_
from lms.models import (
    Exercise,
    ExerciseVariant,
    GradingJob,
    Submission,
    SubmissionPurpose,
    User,
    utcnow,
)
from lms.readiness.evidence import is_blocking_flag
from lms.services import deadlines, variants
from lms.services.blobs import get_blob, put_blob
from lms.services.notebooks import (
    NotebookRejected,
    check_belongs_to,
    fill_answers,
    parse_notebook,
)


class AlreadySubmitted(Conflict):
    """The form was handed in before: `submission_id` is the submission it made."""

    def __init__(self, message: str, submission_id: int | None = None) -> None:
        super().__init__(message)
        self.submission_id = submission_id


@dataclass(frozen=True)
class Queued:
    """A stored submission and its grading job."""

    submission_id: int
    job_id: int


def get_exercise(session: Session, slug: str) -> Exercise | None:
    """The exercise with this slug, with its grade cells."""
    return session.scalar(
        select(Exercise).where(Exercise.slug == slug).options(selectinload(Exercise.grade_cells))
    )


def release_sha256(
    exercise: Exercise, language: str = "en", variant: ExerciseVariant | None = None
) -> str:
    """The blob of the release notebook in `language`, or in English when not translated: of
    `variant` when the exercise has a variant pool (lms.services.variants)."""
    row = variant if variant is not None else exercise
    if language == "fr" and row.release_fr_sha256:
        return row.release_fr_sha256
    return row.release_sha256


def trainee_variant(
    session: Session, exercise: Exercise, user_id: int | None
) -> ExerciseVariant | None:
    """The variant this trainee is given (chosen and stored on first use), None without a pool
    or without a trainee."""
    return None if user_id is None else variants.assigned(session, user_id, exercise)


def release_notebook(
    session: Session, exercise: Exercise, language: str = "en", user_id: int | None = None
) -> dict:
    """The exercise's release notebook (what trainees get) in `language`, parsed: the variant
    trainee `user_id` is given when the exercise has a variant pool."""
    variant = trainee_variant(session, exercise, user_id)
    return json.loads(get_blob(session, release_sha256(exercise, language, variant)))


def submit(
    session: Session,
    *,
    user_id: int,
    exercise_slug: str,
    notebook: bytes,
    name: str,
    origin: str,
    purpose: SubmissionPurpose,
    token: str,
    checks_per_minute: int = 6,
    submissions_per_minute: int = 10,
) -> Queued:
    """Store a notebook unchanged and queue its grading, all or nothing."""
    exercise = get_exercise(session, exercise_slug)
    if exercise is None:
        raise NotFound(N_("There is no exercise %(slug)s."), slug=exercise_slug)
    if not token or len(token) > 64:
        raise Invalid(N_("The form is missing its submission token; reload the page."))
    existing = session.scalar(
        select(Submission.id).where(
            Submission.user_id == user_id, Submission.idempotency_token == token
        )
    )
    if existing is not None:
        raise AlreadySubmitted(
            N_("This form was already submitted; its result is shown below."),
            submission_id=existing,
        )
    if purpose is SubmissionPurpose.GRADE:
        deadlines.check_open(session, exercise, user_id, utcnow())
    limit = checks_per_minute if purpose is SubmissionPurpose.CHECK else submissions_per_minute
    _check_rate(session, user_id, purpose, limit)
    parsed = parse_notebook(notebook)
    check_belongs_to(parsed, release_notebook(session, exercise, user_id=user_id), exercise.title)
    submission = Submission(
        user_id=user_id,
        exercise_id=exercise.id,
        purpose=purpose,
        origin=origin,
        idempotency_token=token,
        notebook_sha256=put_blob(session, notebook),
        notebook_name=(name or exercise.notebook_name)[:200],
    )
    job = GradingJob(submission=submission)
    session.add_all([submission, job])
    try:
        session.commit()
    except IntegrityError:
        # The same token raced in from a second request: the first one won.
        session.rollback()
        raise AlreadySubmitted(N_("This form was already submitted.")) from None
    return Queued(submission_id=submission.id, job_id=job.id)


def _check_rate(session: Session, user_id: int, purpose: SubmissionPurpose, limit: int) -> None:
    # Every run costs a sandbox: one trainee must not be able to flood the graders.
    since = utcnow() - timedelta(minutes=1)
    recent = session.scalar(
        select(func.count()).where(
            Submission.user_id == user_id,
            Submission.purpose == purpose,
            Submission.created_at >= since,
        )
    )
    if recent < limit:
        return
    if purpose is SubmissionPurpose.CHECK:
        message = N_("You can check your work %(n)s times a minute; wait a moment and retry.")
    else:
        message = N_("You can submit %(n)s times a minute; wait a moment and retry.")
    raise TooMany(message, n=limit)


def submission_with_cells(session: Session, submission_id: int) -> Submission | None:
    """The submission with its cell grades and its exercise loaded (None if there is none)."""
    return session.scalar(
        select(Submission)
        .where(Submission.id == submission_id)
        .options(selectinload(Submission.cells), selectinload(Submission.exercise))
    )


def visible_submission(session: Session, submission_id: int, viewer: User) -> Submission | None:
    """The submission if `viewer` may see it (its author, or staff); None otherwise."""
    submission = submission_with_cells(session, submission_id)
    if submission is None:
        return None
    if submission.user_id == viewer.id or viewer.is_staff:
        return submission
    return None


# Flags of the trainee's own making, found in the file they handed in (not by running it).
_CHANGED_CELLS = ("tampered:", "deleted:")


def trainee_notices(flags: list[str] | None) -> list[str]:
    """What a trainee is told about their result's flags: plain notices, never the flags.

    The grader's flags come partly from the run that held the hidden tests: a `timeout:cell-N`
    there, a `tampered-runtime:<name>` or `introspection:<id>` a hidden test caught, would say
    where the hidden tests are and what they do. So a trainee reads only "changed" (test cells of
    their file were edited or deleted: graded from the original) and "review" (the attempt waits
    for an instructor before it counts), with no cell, name or kind; what their code did in a run
    they may see is in the feedback, which comes from the visible-tests run."""
    flags = [str(flag) for flag in flags or ()]
    notices = []
    if any(flag.startswith(_CHANGED_CELLS) for flag in flags):
        notices.append("changed")
    if any(is_blocking_flag(flag) for flag in flags):
        notices.append("review")
    return notices


def status_for(submission: Submission, viewer: User) -> dict[str, Any]:
    """A submission's status as `viewer` may read it: the trainee gets notices, staff also get
    the grader's flags."""
    body = submission.status_json()
    body["notices"] = trainee_notices(submission.flags)
    if viewer.is_staff:
        body["flags"] = list(submission.flags or [])
    return body


def attempts(session: Session, user_id: int, exercise_id: int) -> list[Submission]:
    """A trainee's graded attempts at an exercise, newest first."""
    return list(
        session.scalars(
            select(Submission)
            .where(
                Submission.user_id == user_id,
                Submission.exercise_id == exercise_id,
                Submission.purpose == SubmissionPurpose.GRADE,
            )
            .order_by(Submission.id.desc())
        )
    )


def notebook_from_answers(
    session: Session,
    exercise: Exercise,
    answers: dict[str, str],
    language: str = "en",
    user_id: int | None = None,
) -> bytes:
    """The release notebook in `language` (the variant of trainee `user_id`) with the answers
    typed in the browser (grade id -> source)."""
    return fill_answers(release_notebook(session, exercise, language, user_id), answers)


def latest_answers(session: Session, user_id: int, exercise: Exercise) -> dict[str, str]:
    """The answer cells of the trainee's latest notebook for this exercise (to edit further)."""
    sha = session.scalar(
        select(Submission.notebook_sha256)
        .where(Submission.user_id == user_id, Submission.exercise_id == exercise.id)
        .order_by(Submission.id.desc())
        .limit(1)
    )
    if sha is None:
        return {}
    try:
        notebook = parse_notebook(get_blob(session, sha))
    except NotebookRejected:
        return {}
    answers = {}
    for cell in notebook["cells"]:
        if cells.is_solution(cell) and (grade_id := cells.grade_id(cell)):
            source = cell.get("source", "")
            answers[grade_id] = "".join(source) if isinstance(source, list) else source
    return answers
