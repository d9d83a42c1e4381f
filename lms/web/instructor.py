"""Instructors: activity per exercise and every attempt (minimal for now)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from lms.extensions import db
from lms.services import staff
from lms.web.access import STAFF, roles_required

bp = Blueprint("instructor", __name__, url_prefix="/instructor")


@bp.get("/")
@roles_required(*STAFF)
def index():
    """Each exercise: attempts, trainees, mean score, jobs pending."""
    return render_template("instructor/index.html", activity=staff.exercise_activity(db.session))


@bp.get("/exercises/<slug>")
@roles_required(*STAFF)
def exercise_submissions(slug: str):
    """Every graded attempt at one exercise, newest first."""
    found = staff.exercise_submissions(db.session, slug)
    if found is None:
        abort(404)
    exercise, rows = found
    authors = staff.users_by_id(db.session, {s.user_id for s in rows})
    return render_template(
        "instructor/submissions.html", exercise=exercise, submissions=rows, authors=authors
    )
