"""Instructors: activity per exercise, where trainees struggle, and grading what needs a human."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.errors import DomainError, NotFound
from lms.extensions import db
from lms.services import (
    exercise_activity,
    exercise_difficulty,
    lti_scores,
    manual_grading,
    submissions,
)
from lms.web.access import STAFF, roles_required
from lms.web.errors import describe, status_for
from lms.web.notebook_review import review_cells

bp = Blueprint("instructor", __name__, url_prefix="/instructor")


@bp.get("/")
@roles_required(*STAFF)
def index():
    """Each exercise: attempts, trainees, mean score, jobs pending, what waits for a grade, and
    per grade cell the share of graded attempts that missed it."""
    return render_template(
        "instructor/index.html",
        activity=exercise_activity.per_exercise(db.session),
        difficulty=exercise_difficulty.cell_difficulty(db.session),
        to_grade=manual_grading.queue_sizes(db.session),
    )


@bp.get("/exercises/<slug>")
@roles_required(*STAFF)
def exercise_submissions(slug: str):
    """Every graded attempt at one exercise, newest first."""
    found = exercise_activity.exercise_submissions(db.session, slug)
    if found is None:
        abort(404)
    exercise, rows = found
    authors = exercise_activity.users_by_id(db.session, {s.user_id for s in rows})
    return render_template(
        "instructor/submissions.html", exercise=exercise, submissions=rows, authors=authors
    )


@bp.get("/grading")
@roles_required(*STAFF)
def grading_queue():
    """Trainees' latest attempts with answers waiting for a person, oldest first."""
    slug = request.args.get("exercise", "").strip()
    exercise = submissions.get_exercise(db.session, slug) if slug else None
    if slug and exercise is None:
        flash(_("There is no exercise %(slug)s: showing every exercise.", slug=slug), "error")
    entries = manual_grading.grading_queue(db.session, exercise.id if exercise else None)
    return render_template(
        "instructor/grading_queue.html",
        entries=entries,
        exercise=exercise,
        exercises=manual_grading.exercises(db.session),
        limit=manual_grading.QUEUE_LIMIT,
    ), (404 if slug and exercise is None else 200)


def _grading_page(submission_id: int, status: int = 200, error: dict | None = None):
    sheet = manual_grading.grading_sheet(db.session, submission_id)
    if sheet is None:
        abort(404)
    cells = review_cells(sheet.notebook)
    return render_template(
        "instructor/grade_submission.html",
        sheet=sheet,
        cells=cells,
        by_grade_id={c.grade_id: c for c in cells if c.grade_id},
        error=error,
        max_comment=manual_grading.MAX_COMMENT_LENGTH,
        next_id=manual_grading.next_to_grade(db.session, submission_id),
    ), status


@bp.get("/submissions/<int:submission_id>/grading")
@roles_required(*STAFF)
def grade_submission(submission_id: int):
    """One submission: each answer that needs a person, with a form, and the whole notebook."""
    return _grading_page(submission_id)


@bp.post("/submissions/<int:submission_id>/grading")
@roles_required(*STAFF)
def save_grade(submission_id: int):
    """Record one cell's score and comment; a refused grade changes nothing and says why."""
    grade_id = request.form.get("grade_id", "")
    try:
        manual_grading.record_grade(
            db.session,
            submission_id=submission_id,
            grade_id=grade_id,
            score=request.form.get("score", ""),
            comment=request.form.get("comment", ""),
            grader_id=current_user.id,
        )
    except DomainError as refused:
        if isinstance(refused, NotFound):
            raise
        error = {"grade_id": grade_id, "message": describe(refused), "form": request.form}
        return _grading_page(submission_id, status_for(refused), error)
    # The LMS the exercise was launched from hears of the new total (a failure is recorded).
    lti_scores.send_score(db.session, submission_id)
    flash(_("Grade saved for %(grade_id)s.", grade_id=grade_id), "info")
    return redirect(url_for(".grade_submission", submission_id=submission_id) + "#grading")
