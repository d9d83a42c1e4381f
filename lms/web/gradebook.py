"""The gradebook for instructors and admins: the matrix, its CSV, a trainee's attempts, and
overriding one cell's score with a reason."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from lms.errors import DomainError, NotFound
from lms.extensions import db
from lms.queue import get_queue
from lms.services import audit, deadlines, gradebook, lti_scores, regrades
from lms.web.access import STAFF, roles_required
from lms.web.errors import describe, flash_refusal, status_for

bp = Blueprint("gradebook", __name__, url_prefix="/instructor/gradebook")


def _matrix() -> gradebook.Matrix:
    try:
        return gradebook.matrix(db.session, request.args.get("cohort", "").strip() or None)
    except NotFound as missing:
        abort(404, describe(missing))


@bp.get("/")
@roles_required(*STAFF)
def matrix():
    """Trainees × exercises: the best graded score of each, totals, flags; by cohort if asked."""
    return render_template(
        "gradebook/matrix.html", book=_matrix(), regrade_runs=regrades.recent(db.session)
    )


@bp.get("/gradebook.csv")
@roles_required(*STAFF)
def matrix_csv():
    """The matrix as CSV, its header in the reader's language."""
    book = _matrix()
    headers = {
        "email": _("E-mail"),
        "name": _("Name"),
        "total": _("Total"),
        "max_total": _("Out of"),
        "flags": _("Integrity flags"),
        "late": _("Late (days)"),
    }
    text = gradebook.matrix_csv(book, headers)
    cohort = book.cohort.slug if book.cohort else None
    audit.record_export(
        db.session, "export.gradebook", current_user.id, cohort=cohort, rows=len(book.rows)
    )
    name = f"gradebook-{cohort}.csv" if cohort else "gradebook.csv"
    return Response(
        text, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@bp.get("/trainees/<int:user_id>")
@roles_required(*STAFF)
def trainee(user_id: int):
    """One trainee's graded attempts per exercise: score, date, flags, a link to each."""
    record = gradebook.trainee_record(db.session, user_id)
    if record is None:
        abort(404)
    return render_template("gradebook/trainee.html", record=record)


def _override_page(submission_id: int, status: int = 200, error: dict | None = None):
    sheet = gradebook.override_sheet(db.session, submission_id)
    if sheet is None:
        abort(404)
    return render_template(
        "gradebook/override.html",
        sheet=sheet,
        regrade_history=regrades.history(db.session, submission_id),
        error=error,
        max_reason=gradebook.MAX_REASON_LENGTH,
    ), status


@bp.get("/submissions/<int:submission_id>")
@roles_required(*STAFF)
def submission(submission_id: int):
    """One attempt's cells (grader's score, current score) with an override form, and history."""
    return _override_page(submission_id)


@bp.post("/submissions/<int:submission_id>")
@roles_required(*STAFF)
def override(submission_id: int):
    """Override one cell's score with a reason; a refusal changes nothing and says why."""
    grade_id = request.form.get("grade_id", "")
    try:
        gradebook.override(
            db.session,
            submission_id=submission_id,
            grade_id=grade_id,
            score=request.form.get("score", ""),
            reason=request.form.get("reason", ""),
            by_user_id=current_user.id,
        )
    except DomainError as refused:
        if isinstance(refused, NotFound):
            abort(404, describe(refused))
        error = {"grade_id": grade_id, "message": describe(refused), "form": request.form}
        return _override_page(submission_id, status_for(refused), error)
    # The LMS the exercise was launched from hears of the new total (a failure is recorded).
    lti_scores.send_score(db.session, submission_id)
    flash(_("Score of %(grade_id)s overridden.", grade_id=grade_id), "info")
    return redirect(url_for(".submission", submission_id=submission_id))


def _queue_regrade(requested: regrades.Requested):
    """Hand a run's jobs to the workers and show its progress."""
    backend = get_queue()
    unsent = sum(1 for job_id in requested.job_ids if backend.enqueue(job_id) is False)
    if unsent:
        flash(
            _(
                "The regrade is queued, but the broker is unreachable: %(n)s jobs will be sent "
                "when it is back.",
                n=unsent,
            ),
            "error",
        )
    else:
        flash(_("%(n)s attempts queued for a regrade.", n=len(requested.job_ids)), "info")
    return redirect(url_for(".regrade_run", run_id=requested.run_id), 303)


@bp.post("/submissions/<int:submission_id>/regrade")
@roles_required(*STAFF)
def regrade_submission(submission_id: int):
    """Grade one attempt again with the exercise as it is now; its old score is kept."""
    try:
        requested = regrades.regrade_submission(db.session, submission_id, current_user.id)
    except DomainError as refused:
        if isinstance(refused, NotFound):
            abort(404, describe(refused))
        flash_refusal(refused)
        return redirect(url_for(".submission", submission_id=submission_id), 303)
    return _queue_regrade(requested)


@bp.post("/regrade")
@roles_required(*STAFF)
def regrade_exercise():
    """Grade every graded attempt at an exercise again (after a test fix), through the queue."""
    try:
        requested = regrades.regrade_exercise(
            db.session, request.form.get("exercise", "").strip(), current_user.id
        )
    except DomainError as refused:
        flash_refusal(refused)
        return redirect(url_for(".matrix"), 303)
    return _queue_regrade(requested)


@bp.get("/regrades/<int:run_id>")
@roles_required(*STAFF)
def regrade_run(run_id: int):
    """A regrade's progress (x of N done) and each attempt's score before and after."""
    progress = regrades.progress(db.session, run_id)
    if progress is None:
        abort(404)
    items = regrades.run_items(db.session, run_id)
    return render_template("gradebook/regrade.html", progress=progress, items=items)


@bp.get("/regrades/<int:run_id>.json")
@roles_required(*STAFF)
def regrade_run_json(run_id: int):
    """A regrade's progress, for the page's script."""
    progress = regrades.progress(db.session, run_id)
    if progress is None:
        abort(404)
    return jsonify(progress.to_json())


def _schedule_page(slug: str, status: int = 200):
    try:
        sheet = deadlines.schedule_sheet(db.session, slug)
    except NotFound as missing:
        abort(404, describe(missing))
    return render_template(
        "gradebook/schedule.html", sheet=sheet, policies=list(deadlines.LatePolicy)
    ), status


@bp.get("/exercises/<slug>/schedule")
@roles_required(*STAFF)
def schedule(slug: str):
    """An exercise's due date and late policy, its cohorts' due dates and extensions."""
    return _schedule_page(slug)


def _after_schedule_change(slug: str, act, done: str):
    """Run one change of the schedule; a refusal is shown on the page, a success flashed."""
    try:
        act()
    except DomainError as refused:
        if isinstance(refused, NotFound) and not request.form:
            abort(404, describe(refused))
        flash_refusal(refused)
    else:
        flash(done, "info")
    return redirect(url_for(".schedule", slug=slug), 303)


@bp.post("/exercises/<slug>/schedule")
@roles_required(*STAFF)
def save_schedule(slug: str):
    """Set the exercise's due date (UTC), late policy and penalty per day."""
    form = request.form
    return _after_schedule_change(
        slug,
        lambda: deadlines.set_schedule(
            db.session,
            slug,
            due=form.get("due"),
            policy=form.get("policy", ""),
            penalty_percent=form.get("penalty", "0"),
            by_user_id=current_user.id,
        ),
        _("Due date and late policy saved."),
    )


@bp.post("/exercises/<slug>/cohort-due")
@roles_required(*STAFF)
def save_cohort_due(slug: str):
    """Give one cohort its own due date for the exercise (empty: the exercise's applies)."""
    form = request.form
    return _after_schedule_change(
        slug,
        lambda: deadlines.set_cohort_due(
            db.session, slug, form.get("cohort", ""), form.get("due"), current_user.id
        ),
        _("The cohort's due date is saved."),
    )


@bp.post("/exercises/<slug>/extensions")
@roles_required(*STAFF)
def grant_extension(slug: str):
    """Give one trainee a later due date, with a reason."""
    form = request.form
    return _after_schedule_change(
        slug,
        lambda: deadlines.grant_extension(
            db.session,
            slug,
            form.get("email", ""),
            form.get("due"),
            form.get("reason", ""),
            current_user.id,
        ),
        _("Extension granted."),
    )
