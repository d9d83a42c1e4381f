"""Admins: accounts."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from lms.errors import DomainError
from lms.extensions import db
from lms.models import UserRole
from lms.services import accounts
from lms.web.access import roles_required
from lms.web.errors import describe, status_for
from lms.web.forms import CreateUserForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/", methods=["GET", "POST"])
@roles_required(UserRole.ADMIN)
def index():
    """Every account, and a form to create one (its password is shown once)."""
    form = CreateUserForm()
    created, error, status = None, None, 200
    if form.validate_on_submit():
        try:
            user, password = accounts.create_user(
                db.session,
                form.email.data,
                form.role.data,
                display_name=form.display_name.data or "",
            )
            created = (user.email, password)
            form = CreateUserForm(formdata=None)
        except DomainError as problem:
            error, status = describe(problem), status_for(problem)
    elif request.method == "POST":
        status = 400
    return render_template(
        "admin/index.html",
        users=accounts.list_users(db.session),
        form=form,
        created=created,
        error=error,
    ), status
