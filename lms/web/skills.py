"""The trainee's "My skills": readiness against each role, sharing the report, exporting my data."""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.extensions import db
from lms.models import UserRole
from lms.readiness import STATUS_LABELS
from lms.services import audit, talent, trainee_skills
from lms.web.access import roles_required
from lms.web.rendering import page_language
from lms.web.talent_forms import ShareForm

bp = Blueprint("skills", __name__, url_prefix="/skills")


@bp.get("/")
@roles_required(UserRole.TRAINEE)
def index():
    """My skills against each role's target, what is missing, and the modules that close it."""
    return render_template(
        "skills/index.html",
        view=trainee_skills.my_skills(db.session, current_user.id, page_language()),
        share_form=ShareForm(),
        status_labels=STATUS_LABELS,
        question=talent.sharing_question(db.session, current_user.id),
    )


@bp.post("/sharing")
@roles_required(UserRole.TRAINEE)
def sharing():
    """Share my report with recruiters, or stop sharing it (recorded with the time)."""
    form = ShareForm()
    if not form.validate_on_submit():
        abort(400)
    shared = form.share.data == "yes"
    talent.set_sharing(db.session, current_user.id, shared)
    flash(
        _("Recruiters can now see your report.")
        if shared
        else _("Recruiters can no longer see your report."),
        "success",
    )
    return redirect(url_for(".index"), 303)


@bp.get("/my-data.json")
@roles_required(UserRole.TRAINEE)
def export():
    """Everything we hold about me, as a JSON download."""
    data = talent.export_trainee_data(db.session, current_user.id)
    audit.record_export(db.session, "export.my_data", current_user.id, current_user.id)
    return Response(
        json.dumps(data, indent=1, ensure_ascii=False),
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="my-atlas-data.json"'},
    )
