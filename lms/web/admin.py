"""Admins: accounts (invitations, reset links, roles, disabling, deletion) and the audit log."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.errors import DomainError, NotFound
from lms.extensions import db
from lms.models import UserRole
from lms.services import accounts, audit
from lms.web.access import roles_required
from lms.web.errors import describe, status_for
from lms.web.forms import ActiveForm, CreateUserForm, DeleteForm, RoleForm, SignOutForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _page(status: int = 200, **shown):
    """The accounts page; `shown` carries a link or password to show once (never flashed:
    flashes travel in the session cookie)."""
    return render_template(
        "admin/index.html",
        users=accounts.list_users(db.session),
        form=shown.pop("form", None) or CreateUserForm(formdata=None),
        role_form=RoleForm,
        active_form=ActiveForm(),
        button_form=SignOutForm(),
        delete_form=DeleteForm(),
        **shown,
    ), status


def _refused(error: DomainError):
    if isinstance(error, NotFound):
        abort(404)
    return _page(status_for(error), error=describe(error))


@bp.route("/", methods=["GET", "POST"])
@roles_required(UserRole.ADMIN)
def index():
    """Every account, and a form to invite someone (the one-time link is shown once)."""
    form = CreateUserForm()
    if form.validate_on_submit():
        try:
            user, token = accounts.invite(
                db.session,
                form.email.data,
                form.role.data,
                form.display_name.data or "",
                current_user.id,
            )
        except DomainError as error:
            return _page(status_for(error), error=describe(error), form=form)
        return _page(link=(user.email, url_for("auth.use_link", token=token, _external=True)))
    if request.method == "POST":
        return _page(400, form=form)
    return _page()


@bp.post("/users/<int:user_id>/active")
@roles_required(UserRole.ADMIN)
def set_active(user_id: int):
    """Disable an account (its sessions and tokens stop at once) or enable it again."""
    form = ActiveForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        accounts.set_active(db.session, user_id, form.active.data == "yes", current_user.id)
    except DomainError as error:
        return _refused(error)
    flash(_("Account updated."), "info")
    return redirect(url_for(".index"), 303)


@bp.post("/users/<int:user_id>/role")
@roles_required(UserRole.ADMIN)
def set_role(user_id: int):
    """Give an account another role (its sessions end)."""
    form = RoleForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        accounts.change_role(db.session, user_id, form.role.data, current_user.id)
    except DomainError as error:
        return _refused(error)
    flash(_("Role changed."), "info")
    return redirect(url_for(".index"), 303)


@bp.post("/users/<int:user_id>/reset-link")
@roles_required(UserRole.ADMIN)
def reset_link(user_id: int):
    """A one-time password-reset link for the account, shown once on this page."""
    if not SignOutForm().validate_on_submit():
        abort(400)
    try:
        token = accounts.reset_link(db.session, user_id, current_user.id)
    except DomainError as error:
        return _refused(error)
    user = accounts.get_user(db.session, user_id)
    return _page(link=(user.email, url_for("auth.use_link", token=token, _external=True)))


@bp.post("/users/<int:user_id>/password")
@roles_required(UserRole.ADMIN)
def reset_password(user_id: int):
    """A generated password, shown once, that the user must change at their next sign-in."""
    if not SignOutForm().validate_on_submit():
        abort(400)
    try:
        user, password = accounts.admin_set_password(db.session, user_id, current_user.id)
    except DomainError as error:
        return _refused(error)
    return _page(created=(user.email, password))


@bp.post("/users/<int:user_id>/delete")
@roles_required(UserRole.ADMIN)
def delete(user_id: int):
    """Delete an account: the download is everything we held; the person is then anonymised."""
    form = DeleteForm()
    user = accounts.get_user(db.session, user_id)
    if user is None or user.anonymised_at is not None:
        abort(404)
    if not form.validate_on_submit() or form.confirm.data.strip().lower() != user.email:
        return _page(400, error=_("Type the account's e-mail to confirm its deletion."))
    try:
        export = accounts.delete_account(db.session, user_id, current_user.id)
    except DomainError as error:
        return _refused(error)
    return Response(
        json.dumps(export, indent=1, ensure_ascii=False),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="deleted-account-{user_id}.json"'},
    )


@bp.get("/audit")
@roles_required(UserRole.ADMIN)
def audit_log():
    """Who did what, newest first, filtered by action, person and date."""
    action = request.args.get("action", "")
    since = None
    if request.args.get("since"):
        try:
            since = datetime.fromisoformat(request.args["since"][:10]).replace(tzinfo=UTC)
        except ValueError:
            return render_template(
                "errors/error.html", status=400, message=_("Give the date as YYYY-MM-DD.")
            ), 400
    before = request.args.get("before", "")
    filters = audit.AuditFilter(
        action=action if action in audit.ACTIONS else None,
        person=request.args.get("person", "")[:254].strip() or None,
        since=since,
        before_id=int(before) if before.isdigit() and len(before) < 10 else None,
    )
    return render_template(
        "admin/audit.html",
        events=audit.events(db.session, filters),
        filters=filters,
        actions=audit.ACTIONS,
        page_size=audit.PAGE_SIZE,
    )
