"""Recruiters: the pipeline against the hiring plan, candidates, their reports and marks."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from flask_babel import gettext as _
from flask_login import current_user

from lms.errors import DomainError
from lms.extensions import db
from lms.models.accounts import TALENT_ROLES
from lms.models.talent import MarkStatus
from lms.readiness import STATUS_LABELS, STATUSES
from lms.services import audit, candidates, talent, talent_exports
from lms.web.access import roles_required
from lms.web.errors import flash_refusal
from lms.web.forecast_views import forecast_context
from lms.web.notebook_review import review_cells
from lms.web.rendering import page_language
from lms.web.talent_forms import MarkForm

bp = Blueprint("recruiter", __name__, url_prefix="/recruiter")
RECRUITERS = TALENT_ROLES


@bp.get("/")
@roles_required(*RECRUITERS)
def index():
    """Every role's pipeline now: ready, almost, not yet, and marked, against the hiring plan."""
    return render_template(
        "recruiter/index.html", pipeline=talent.pipeline(db.session, language=page_language())
    )


@bp.get("/forecast")
@roles_required(*RECRUITERS)
def forecast():
    """When the hiring plan is met at current rates, per role and in total, with a band."""
    return render_template("recruiter/forecast.html", **forecast_context(page_language()))


@bp.get("/roles/<role_id>/pipeline")
@roles_required(*RECRUITERS)
def pipeline(role_id: str):
    """One role's pipeline over time (daily snapshots) and today."""
    now = next(
        (p for p in talent.pipeline(db.session, language=page_language()) if p.role_id == role_id),
        None,
    )
    if now is None:
        abort(404)
    return render_template(
        "recruiter/pipeline.html", now=now, history=talent.pipeline_series(db.session, now)
    )


@bp.get("/roles/<role_id>/candidates")
@roles_required(*RECRUITERS)
def candidate_list(role_id: str):
    """The role's candidates who shared their report, filtered and sorted."""
    filters = candidates.parse_filter(request.args)
    listing = candidates.candidate_list(db.session, role_id, filters)
    if listing is None:
        abort(404)
    return render_template(
        "recruiter/candidates.html",
        listing=listing,
        filters=filters,
        statuses=STATUSES,
        status_labels=STATUS_LABELS,
        sorts=candidates.SORTS,
        # Translated once, not once per row (a cohort's list has thousands of rows).
        status_text={status: gettext(label) for status, label in STATUS_LABELS.items()},
        verified_text=gettext("verified on %(date)s"),
    )


@bp.get("/roles/<role_id>/candidates.csv")
@roles_required(*RECRUITERS)
def candidate_csv(role_id: str):
    """The filtered candidate list as CSV."""
    listing = candidates.candidate_list(db.session, role_id, candidates.parse_filter(request.args))
    if listing is None:
        abort(404)
    audit.record_export(
        db.session, "export.candidates", current_user.id, role=role_id, rows=len(listing.rows)
    )
    db.end_reads()  # sent a row at a time, with no transaction open
    return Response(
        talent_exports.candidates_csv(listing, gettext),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="candidates-{role_id}.csv"'},
    )


@bp.get("/candidates/<int:trainee_id>")
@roles_required(*RECRUITERS)
def report(trainee_id: int):
    """A shared candidate's report with the evidence behind every number (404 if not shared)."""
    found = candidates.candidate_report(db.session, trainee_id, language=page_language())
    if found is None:
        abort(404)
    return render_template(
        "recruiter/report.html",
        report=found,
        mark_form=MarkForm(),
        marks=[m.value for m in MarkStatus],
        status_labels=STATUS_LABELS,
    )


@bp.get("/candidates/<int:trainee_id>/submissions/<int:submission_id>")
@roles_required(*RECRUITERS)
def work(trainee_id: int, submission_id: int):
    """The graded notebook behind a piece of evidence: the trainee's code, visible outputs and
    cell scores, never hidden tests (404 unless shared and the trainee's graded work)."""
    found = candidates.shared_work(db.session, trainee_id, submission_id)
    if found is None:
        abort(404)
    return render_template("recruiter/work.html", work=found, cells=review_cells(found.notebook))


@bp.get("/candidates/<int:trainee_id>/report.pdf")
@roles_required(*RECRUITERS)
def report_pdf(trainee_id: int):
    """A shared candidate's report as PDF."""
    found = candidates.candidate_report(db.session, trainee_id, language=page_language())
    if found is None:
        abort(404)
    audit.record_export(db.session, "export.report", current_user.id, trainee_id)
    db.end_reads()  # the PDF is slow work that needs no transaction
    return Response(
        talent_exports.report_pdf(found, gettext, page_language()),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="report-{trainee_id}.pdf"'},
    )


@bp.post("/candidates/<int:trainee_id>/marks")
@roles_required(*RECRUITERS)
def mark(trainee_id: int):
    """Mark a shared candidate for a role (shortlisted, interviewing, hired, or cleared)."""
    form = MarkForm()
    if not form.validate_on_submit():
        flash(_("Choose a role and a mark."), "error")
        return redirect(url_for(".report", trainee_id=trainee_id), 303)
    try:
        talent.mark_candidate(
            db.session, trainee_id, form.role.data, form.status.data, current_user.id
        )
    except DomainError as error:
        if not talent.is_shared(db.session, trainee_id):
            abort(404)
        flash_refusal(error)
    else:
        flash(_("Marked %(status)s.", status=form.status.data), "success")
    return redirect(url_for(".report", trainee_id=trainee_id), 303)
