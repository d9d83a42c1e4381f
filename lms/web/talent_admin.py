"""Admins: cohorts (and their default report sharing) and API tokens for recruiters."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.errors import DomainError
from lms.extensions import db
from lms.models import UserRole
from lms.services import api_tokens, talent
from lms.web.access import roles_required
from lms.web.errors import flash_refusal
from lms.web.talent_forms import CohortDefaultForm, CohortForm, CohortMembersForm, TokenForm

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
