"""The trainee's path: dashboard, course, lesson."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user

from lms.extensions import db
from lms.models import UserRole
from lms.models.accounts import LEARNER_ROLES
from lms.services import progress
from lms.web.access import roles_required

bp = Blueprint("learn", __name__)

LEARNERS = LEARNER_ROLES
HOME_BY_ROLE = {
    UserRole.TRAINEE: "learn.dashboard",
    UserRole.INSTRUCTOR: "instructor.index",
    UserRole.RECRUITER: "recruiter.index",
    UserRole.ADMIN: "admin.index",
}


@bp.get("/")
def home():
    """Send each user to their role's home page (anonymous: sign in)."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(url_for(HOME_BY_ROLE[current_user.role]))


@bp.get("/learn")
@roles_required(*LEARNERS)
def dashboard():
    """My courses, my progress, and what to do next."""
    courses = progress.dashboard(db.session, current_user.id)
    return render_template("learn/dashboard.html", courses=courses)


@bp.get("/courses/<course_slug>")
@roles_required(*LEARNERS)
def course(course_slug: str):
    """A course's modules, lessons and exercises, with my best scores."""
    page = progress.course_page(db.session, current_user.id, course_slug)
    if page is None:
        abort(404)
    return render_template(
        "learn/course.html",
        course=page.progress.course,
        progress=page.progress,
        best=page.best,
        done=page.done,
        percent_of=progress.percent_of,
    )


@bp.get("/courses/<course_slug>/<module_slug>/<lesson_slug>")
@roles_required(*LEARNERS)
def lesson(course_slug: str, module_slug: str, lesson_slug: str):
    """A lesson, rendered from Markdown (French when available and chosen)."""
    found = progress.get_lesson(db.session, course_slug, module_slug, lesson_slug)
    if found is None:
        abort(404)
    current, before, after = found
    return render_template(
        "learn/lesson.html",
        lesson=current,
        before=before,
        after=after,
        course=current.module.course,
        module=current.module,
    )
