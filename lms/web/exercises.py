"""Exercises: read, answer in the browser or upload, submit, follow the grading."""

from __future__ import annotations

import logging
import secrets
from dataclasses import asdict

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from werkzeug.utils import secure_filename

from lms.errors import DomainError, Invalid, NotFound
from lms.extensions import db
from lms.i18n import N_
from lms.models import (
    Exercise,
    Submission,
    SubmissionPurpose,
    SubmissionStatus,
    UserRole,
    utcnow,
)
from lms.models.accounts import LEARNER_ROLES
from lms.queue import enqueue
from lms.services import deadlines, drafts, grading_jobs, notebook_runs, submissions
from lms.services.blobs import get_blob
from lms.web.access import STAFF, roles_required, wants_json
from lms.web.errors import describe, status_for
from lms.web.rendering import notebook_cells, page_language
from lms.web.result_panel import sandbox_events

bp = Blueprint("exercises", __name__)
log = logging.getLogger(__name__)

SUBMITTERS = LEARNER_ROLES
# Drafts are the trainee's workbench; staff trying an exercise out have no autosave.
DRAFT_ROLES = (UserRole.TRAINEE,)
# The grader's feedback page is untrusted HTML (it echoes the trainee's code): shown in a sandboxed
# frame that may run no script, load nothing and submit nothing.
FEEDBACK_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"
NOTEBOOK_MIMETYPE = "application/x-ipynb+json"


def _attachment(sha256: str, mimetype: str, filename: str) -> Response:
    """A stored blob, served as a download named `filename`."""
    return Response(
        get_blob(db.session, sha256),
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _exercise_or_404(slug: str) -> Exercise:
    exercise = submissions.get_exercise(db.session, slug)
    if exercise is None:
        abort(404)
    return exercise


def _provided_outputs(exercise: Exercise) -> dict[int, tuple[dict[str, str], ...]]:
    """The release's own outputs, or none when the sandbox cannot run (the page still works)."""
    try:
        return notebook_runs.provided_outputs(db.session, exercise, user_id=current_user.id)
    except Exception:
        log.exception("could not run the release of %s for its outputs", exercise.slug)
        return {}


def _render_exercise(exercise: Exercise, status: int = 200, error: str | None = None):
    editing = drafts.answers_to_edit(db.session, current_user.id, exercise)
    cells = notebook_cells(
        submissions.release_notebook(db.session, exercise, page_language(), current_user.id)
    )
    history = submissions.attempts(db.session, current_user.id, exercise.id)
    outputs = _provided_outputs(exercise)
    return render_template(
        "exercises/exercise.html",
        exercise=exercise,
        cells=cells,
        outputs=outputs,
        answers=editing.answers,
        draft_saved_at=editing.saved_at,
        autosave=current_user.role in DRAFT_ROLES,
        attempts=history,
        error=error,
        browser_token=secrets.token_hex(16),
        upload_token=secrets.token_hex(16),
        due=deadlines.notice(db.session, exercise.id, current_user.id, utcnow()),
    ), status


@bp.get("/exercises/<slug>")
@roles_required(*SUBMITTERS)
def exercise(slug: str):
    """The exercise: its notebook with editable answer cells, upload form, attempt history."""
    return _render_exercise(_exercise_or_404(slug))


@bp.get("/exercises/<slug>/notebook")
@roles_required(*SUBMITTERS)
def download(slug: str) -> Response:
    """The release notebook (what nbgrader hands out: no solutions, no hidden tests)."""
    exercise = _exercise_or_404(slug)
    variant = submissions.trainee_variant(db.session, exercise, current_user.id)
    sha256 = submissions.release_sha256(exercise, page_language(), variant)
    return _attachment(sha256, NOTEBOOK_MIMETYPE, exercise.notebook_name)


@bp.get("/exercises/<slug>/files/<path:name>")
@roles_required(*SUBMITTERS)
def data_file(slug: str, name: str) -> Response:
    """A data file shipped with the exercise."""
    exercise = _exercise_or_404(slug)
    found = next((f for f in exercise.files if f.path == name), None)
    if found is None:
        abort(404)
    return _attachment(found.sha256, "application/octet-stream", found.path.rsplit("/", 1)[-1])


@bp.get("/exercises/<slug>/draft")
@roles_required(*DRAFT_ROLES)
def draft(slug: str) -> Response:
    """The trainee's own draft of the exercise, and a fresh CSRF token for the next autosave."""
    exercise = _exercise_or_404(slug)
    found = drafts.get_draft(db.session, current_user.id, exercise.id)
    return jsonify(
        answers=found.answers if found else {},
        saved_at=found.saved_at.isoformat() if found else None,
        csrf_token=generate_csrf(),
    )


@bp.put("/exercises/<slug>/draft")
@roles_required(*DRAFT_ROLES)
def save_draft(slug: str) -> Response:
    """Autosave: replace the trainee's draft with the answers on the page (JSON)."""
    exercise = _exercise_or_404(slug)
    body = request.get_json(silent=True)
    answers = body.get("answers") if isinstance(body, dict) else None
    saved = drafts.save_draft(db.session, current_user.id, exercise, answers)
    return jsonify(saved_at=saved.saved_at.isoformat())


@bp.post("/exercises/<slug>/submissions")
@roles_required(*SUBMITTERS)
def submit(slug: str):
    """Hand in the answers typed on the page, or an uploaded .ipynb: stored, then graded."""
    exercise = _exercise_or_404(slug)
    check = request.form.get("action") == "check"
    try:
        data, name, origin = _notebook_from_form(exercise)
        queued = submissions.submit(
            db.session,
            user_id=current_user.id,
            exercise_slug=slug,
            notebook=data,
            name=name,
            origin=origin,
            purpose=SubmissionPurpose.CHECK if check else SubmissionPurpose.GRADE,
            token=request.form.get("token", ""),
            checks_per_minute=current_app.config["CHECK_WORK_PER_MINUTE"],
            submissions_per_minute=current_app.config["SUBMISSIONS_PER_MINUTE"],
        )
    except DomainError as refused:
        return _refused(exercise, refused)
    delayed = enqueue(queued.job_id) is False
    if delayed:
        flash(
            _(
                "Your notebook is saved and queued, but the grading service is unreachable "
                "right now; it will be graded automatically when it is back."
            ),
            "error",
        )
    status_url = url_for(".status", submission_id=queued.submission_id)
    if wants_json():
        return jsonify(
            submission_id=queued.submission_id,
            status_url=status_url,
            next_token=secrets.token_hex(16),
            queue_delayed=delayed,
        ), 202
    return redirect(url_for(".submission", submission_id=queued.submission_id))


@bp.post("/exercises/<slug>/run")
@roles_required(*SUBMITTERS)
def run(slug: str):
    """Run the typed answers (all cells, or up to `upto`) in the sandbox; outputs as JSON."""
    exercise = _exercise_or_404(slug)
    upto = request.form.get("upto", "")
    try:
        if upto and not upto.isdigit():
            raise Invalid(N_("Choose a cell to run up to (a cell number)."))
        ran = notebook_runs.run_answers(
            db.session,
            user_id=current_user.id,
            exercise=exercise,
            answers=_typed_answers(),
            upto=int(upto) if upto else None,
            per_minute=current_app.config["RUNS_PER_MINUTE"],
            sessions=current_app.config["RUN_SESSIONS"],
            session_idle_seconds=current_app.config["RUN_SESSION_IDLE_SECONDS"],
        )
    except DomainError as refused:
        return jsonify(error=describe(refused)), status_for(refused)
    return jsonify(
        cells=[asdict(cell) for cell in ran.cells],
        flags=list(ran.flags),
        events=sandbox_events(list(ran.flags), exercise.timeout),
    )


def _typed_answers() -> dict[str, str]:
    """The answer cells typed on the page (fields `answer-<grade id>`)."""
    return {
        key.removeprefix("answer-"): value
        for key, value in request.form.items()
        if key.startswith("answer-")
    }


def _notebook_from_form(exercise: Exercise) -> tuple[bytes, str, str]:
    """The notebook bytes, file name and origin: the uploaded file, else the typed answers."""
    upload = request.files.get("notebook")
    if upload is not None and upload.filename:
        return upload.read(), secure_filename(upload.filename), "upload"
    if request.form.get("origin") == "upload":
        raise Invalid(N_("Choose a notebook file (.ipynb) to upload."))
    data = submissions.notebook_from_answers(
        db.session, exercise, _typed_answers(), page_language(), current_user.id
    )
    return data, exercise.notebook_name, "browser"


def _refused(exercise: Exercise, refused: DomainError):
    """The exercise page (or JSON for the page's script) saying why the notebook was refused."""
    status = status_for(refused)
    if wants_json():
        body = {"error": describe(refused), "status": status, "next_token": secrets.token_hex(16)}
        if isinstance(refused, submissions.AlreadySubmitted) and refused.submission_id:
            body["status_url"] = url_for(".status", submission_id=refused.submission_id)
        return jsonify(body), status
    if isinstance(refused, NotFound):
        raise refused
    return _render_exercise(exercise, status=status, error=describe(refused))


def _visible_or_404(submission_id: int) -> Submission:
    submission = submissions.visible_submission(db.session, submission_id, current_user)
    if submission is None:
        abort(404)
    return submission


@bp.get("/submissions/<int:submission_id>")
@roles_required(*SUBMITTERS)
def submission(submission_id: int):
    """One submission: progress, then the score per test and the feedback."""
    found = _visible_or_404(submission_id)
    if found.purpose is SubmissionPurpose.CHECK:
        flash(_("This was a check of the visible tests only; it is not a graded attempt."), "info")
    return render_template("exercises/submission.html", submission=found)


@bp.get("/submissions/<int:submission_id>.json")
@roles_required(*SUBMITTERS)
def status(submission_id: int) -> Response:
    """What the exercise page polls while grading runs."""
    found = _visible_or_404(submission_id)
    body = submissions.status_for(found, current_user)
    # Sandbox events in plain words, from the run the trainee may see (visible tests only).
    body["events"] = sandbox_events(found.shown_flags or [], found.exercise.timeout)
    if found.status is SubmissionStatus.QUEUED:
        body["jobs_ahead"] = grading_jobs.jobs_ahead(db.session, submission_id)
    if found.feedback_html:
        body["feedback_url"] = url_for(".feedback", submission_id=submission_id)
    body["page_url"] = url_for(".submission", submission_id=submission_id)
    return jsonify(body)


@bp.get("/submissions/<int:submission_id>/feedback")
@roles_required(*SUBMITTERS)
def feedback(submission_id: int) -> Response:
    """The grader's feedback HTML (no hidden tests), served to a sandboxed frame."""
    found = _visible_or_404(submission_id)
    if not found.feedback_html:
        abort(404)
    response = Response(found.feedback_html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = FEEDBACK_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/submissions/<int:submission_id>/notebook")
@roles_required(*SUBMITTERS)
def submitted_notebook(submission_id: int) -> Response:
    """The notebook exactly as it was handed in."""
    found = _visible_or_404(submission_id)
    return _attachment(found.notebook_sha256, NOTEBOOK_MIMETYPE, found.notebook_name)


@bp.get("/submissions/<int:submission_id>/graded.ipynb")
@roles_required(*STAFF)
def graded_notebook(submission_id: int) -> Response:
    """The executed notebook, hidden tests included: for instructors only."""
    found = _visible_or_404(submission_id)
    if found.graded_notebook_sha256 is None:
        abort(404)
    return _attachment(found.graded_notebook_sha256, NOTEBOOK_MIMETYPE, f"graded-{found.id}.ipynb")
