"""Admins: cohorts (and their default report sharing), API tokens for recruiters, and the hiring
plan (edited row by row, with its forecast)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.errors import DomainError, NotFound
from lms.extensions import db
from lms.models import UserRole
from lms.services import api_tokens, hiring_plan, names, talent
from lms.web.access import roles_required
from lms.web.errors import describe, flash_refusal
from lms.web.forecast_views import forecast_context
from lms.web.rendering import page_language
from lms.web.talent_forms import (
    CohortDefaultForm,
    CohortForm,
    CohortMembersForm,
    PlanRowForm,
    TokenForm,
)

bp = Blueprint("talent_admin", __name__, url_prefix="/admin/talent")


@bp.get("/")
@roles_required(UserRole.ADMIN)
def index(new_token: str | None = None):
    """Cohorts (whether each asks its trainees to share), and API tokens."""
    return render_template(
        "talent_admin/index.html",
        cohorts=talent.list_cohorts(db.session),
        tokens=api_tokens.list_tokens(db.session),
        cohort_form=CohortForm(),
        default_form=CohortDefaultForm(),
        members_form=CohortMembersForm(),
        token_form=TokenForm(),
        new_token=new_token,
    )


@bp.post("/cohorts")
@roles_required(UserRole.ADMIN)
def create_cohort():
    """Create a cohort."""
    form = CohortForm()
    if form.validate_on_submit():
        try:
            talent.create_cohort(
                db.session,
                form.slug.data,
                form.name.data or "",
                form.default_sharing.data,
                current_user.id,
            )
            flash(_("Cohort created."), "success")
        except DomainError as error:
            flash_refusal(error)
    else:
        flash(_("Give the cohort an id."), "error")
    return redirect(url_for(".index"), 303)


@bp.post("/cohorts/<int:cohort_id>/default")
@roles_required(UserRole.ADMIN)
def cohort_default(cohort_id: int):
    """Set whether the cohort asks its trainees to share their report (they answer)."""
    form = CohortDefaultForm()
    if not form.validate_on_submit():
        abort(400)
    talent.set_cohort_default(
        db.session, cohort_id, form.default_sharing.data == "yes", current_user.id
    )
    flash(_("The cohort's question to its trainees is updated."), "success")
    return redirect(url_for(".index"), 303)


@bp.post("/cohorts/<int:cohort_id>/members")
@roles_required(UserRole.ADMIN)
def cohort_members(cohort_id: int):
    """Add trainees (by e-mail) to the cohort."""
    form = CohortMembersForm()
    if not form.validate_on_submit():
        flash(_("List at least one e-mail."), "error")
        return redirect(url_for(".index"), 303)
    try:
        count = talent.add_members(db.session, cohort_id, form.emails.data.splitlines())
        flash(_("%(n)s trainee(s) added.", n=count), "success")
    except DomainError as error:
        flash_refusal(error)
    return redirect(url_for(".index"), 303)


@bp.post("/tokens")
@roles_required(UserRole.ADMIN)
def create_token():
    """Create an API token for a recruiter, shown once on the page this answers with (never
    flashed: a flash travels in the session cookie)."""
    form = TokenForm()
    if not form.validate_on_submit():
        flash(_("Give a recruiter's e-mail."), "error")
        return redirect(url_for(".index"), 303)
    try:
        token, _row = api_tokens.create_token(
            db.session, form.email.data, form.name.data or "", by_user_id=current_user.id
        )
    except DomainError as error:
        flash_refusal(error)
        return redirect(url_for(".index"), 303)
    return index(new_token=token)


@bp.post("/tokens/<int:token_id>/revoke")
@roles_required(UserRole.ADMIN)
def revoke_token(token_id: int):
    """Revoke an API token at once."""
    if not api_tokens.revoke_token(db.session, token_id, current_user.id):
        abort(404)
    flash(_("Token revoked."), "success")
    return redirect(url_for(".index"), 303)


def _plan_page(failed: dict | None = None, status: int = 200):
    """The plan's rows (a refused row keeps what was typed, with its errors) and the forecast."""
    language = page_language()
    page = render_template(
        "talent_admin/plan.html",
        rows=hiring_plan.plan_rows(db.session, language),
        roles=sorted(names.role_names(db.session, language).items(), key=lambda pair: pair[1]),
        form=PlanRowForm(),
        failed=failed,
        **forecast_context(language),
    )
    return page, status


def _refused(row: str, error: DomainError):
    """The plan page again, status 400, the typed values kept and each wrong field named."""
    errors = getattr(error, "errors", None) or {"role": error}
    return _plan_page(
        {
            "row": row,
            "values": {name: request.form.get(name, "") for name in ("role", "count", "by")},
            "errors": {name: describe(problem) for name, problem in errors.items()},
        },
        400,
    )


@bp.get("/plan")
@roles_required(UserRole.ADMIN)
def plan():
    """The hiring plan, row by row, editable, with its forecast."""
    return _plan_page()


@bp.post("/plan")
@roles_required(UserRole.ADMIN)
def add_plan_row():
    """Add a row (role x headcount x date) to the plan."""
    form = PlanRowForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        hiring_plan.add_row(
            db.session, form.role.data, form.count.data, form.by.data, current_user.id
        )
    except DomainError as error:
        return _refused("new", error)
    flash(_("Row added to the plan."), "success")
    return redirect(url_for(".plan"), 303)


@bp.post("/plan/<int:row_id>")
@roles_required(UserRole.ADMIN)
def change_plan_row(row_id: int):
    """Change a row of the plan."""
    form = PlanRowForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        hiring_plan.change_row(
            db.session, row_id, form.role.data, form.count.data, form.by.data, current_user.id
        )
    except NotFound as error:
        flash_refusal(error)
        return redirect(url_for(".plan"), 303)
    except DomainError as error:
        return _refused(str(row_id), error)
    flash(_("Row saved."), "success")
    return redirect(url_for(".plan"), 303)


@bp.post("/plan/<int:row_id>/remove")
@roles_required(UserRole.ADMIN)
def remove_plan_row(row_id: int):
    """Remove a row of the plan."""
    if not PlanRowForm().validate_on_submit():
        abort(400)
    try:
        hiring_plan.remove_row(db.session, row_id, current_user.id)
    except DomainError as error:
        flash_refusal(error)
    else:
        flash(_("Row removed from the plan."), "success")
    return redirect(url_for(".plan"), 303)
