"""Open Badges 3.0: staff issue and revoke, trainees download, anyone verifies."""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.errors import DomainError
from lms.extensions import csrf, db
from lms.models import UserRole
from lms.services import credentials
from lms.web.access import STAFF, roles_required
from lms.web.errors import describe, status_for

bp = Blueprint("credentials", __name__, url_prefix="/credentials")


def _base() -> str:
    return request.url_root.rstrip("/")


def _own_or_404(credential_id: str):
    credential = credentials.get(db.session, credential_id)
    if credential is None or not (
        current_user.is_authenticated
        and (current_user.is_staff or credential.user_id == current_user.id)
    ):
        abort(404)
    return credential


def _issue_page(status: int = 200, error: str | None = None):
    return render_template(
        "credentials/issue.html",
        issued=credentials.issued(db.session),
        kinds=credentials.KINDS,
        error=error,
        form=request.form,
    ), status


@bp.route("/issue", methods=["GET", "POST"])
@roles_required(*STAFF)
def issue():
    """Issue a credential to a trainee who completed a course or is ready for a role."""
    if request.method == "GET":
        return _issue_page()
    try:
        credential = credentials.issue(
            db.session,
            request.form.get("email", ""),
            request.form.get("kind", ""),
            request.form.get("slug", ""),
            current_user.id,
            _base(),
        )
    except DomainError as error:
        return _issue_page(status_for(error), describe(error))
    flash(_("Credential issued."), "info")
    return redirect(url_for(".verify_page", credential_id=credential.id), 303)


@bp.post("/<credential_id>/revoke")
@roles_required(*STAFF)
def revoke(credential_id: str):
    """Revoke a credential (its verification fails from now on)."""
    try:
        credentials.revoke(db.session, credential_id, current_user.id, request.form.get("reason"))
    except DomainError as error:
        return _issue_page(status_for(error), describe(error))
    flash(_("Credential revoked."), "info")
    return redirect(url_for(".issue"), 303)


@bp.get("/mine")
@roles_required(UserRole.TRAINEE)
def mine():
    """The trainee's credentials, to download."""
    return render_template(
        "credentials/mine.html", issued=credentials.of_trainee(db.session, current_user.id)
    )


@bp.get("/<credential_id>/credential.json")
def download_json(credential_id: str) -> Response:
    """The credential as JSON: the signed form (vc+jwt) and what it says."""
    credential = _own_or_404(credential_id)
    checked = credentials.verify(db.session, credential.jws, _base())
    body = {"jwt": credential.jws, "credential": checked.document}
    return Response(
        json.dumps(body, indent=1, ensure_ascii=False),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="credential-{credential.id}.json"'},
    )


@bp.get("/<credential_id>/badge.svg")
def download_badge(credential_id: str) -> Response:
    """The badge image with the credential baked in."""
    credential = _own_or_404(credential_id)
    verify_url = url_for(".verify_page", credential_id=credential.id, _external=True)
    return Response(
        credentials.baked_svg(credential, verify_url),
        mimetype="image/svg+xml",
        headers={"Content-Disposition": f'attachment; filename="badge-{credential.id}.svg"'},
    )


@bp.get("/<credential_id>")
def verify_page(credential_id: str):
    """Public: whether this credential is genuine and not revoked (no personal data shown)."""
    credential = credentials.get(db.session, credential_id)
    if credential is None:
        abort(404)
    checked = credentials.verify(db.session, credential.jws, _base())
    return render_template("credentials/verify.html", checked=checked, credential=credential)


@bp.post("/verify")
@csrf.exempt
def verify():
    """Public JSON endpoint: post a credential's JWS (body or form field `credential`)."""
    token = request.form.get("credential") or request.get_data(as_text=True)
    return credentials.verify(db.session, token, _base()).as_json()


@bp.get("/<credential_id>/status")
def status(credential_id: str):
    """Public: the credential's revocation status."""
    credential = credentials.get(db.session, credential_id)
    if credential is None:
        abort(404)
    return {"id": credential.id, "revoked": credential.revoked_at is not None}


@bp.get("/issuer")
def issuer():
    """Public: our issuer profile and the key that verifies our credentials."""
    return credentials.issuer_profile(_base(), credentials.issuer_key(db.session))
