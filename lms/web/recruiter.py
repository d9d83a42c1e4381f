"""Recruiters: the target roles and the skills they require (readiness reports: issue 5)."""

from __future__ import annotations

from flask import Blueprint, render_template

from lms.extensions import db
from lms.models import UserRole
from lms.services import staff
from lms.web.access import roles_required

bp = Blueprint("recruiter", __name__, url_prefix="/recruiter")


@bp.get("/")
@roles_required(UserRole.RECRUITER, UserRole.ADMIN)
def index():  # noqa: ANN201
    """The roles being hired for and what each requires."""
    return render_template("recruiter/index.html", roles=staff.list_roles(db.session))
