"""LTI 1.3 tool: our JWKS, the OIDC login an LMS starts, the launch it posts back; and the
admin page where platforms are registered and our keys rotated."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user
from pylti1p3.contrib.flask import (
    FlaskCookieService,
    FlaskMessageLaunch,
    FlaskOIDCLogin,
    FlaskRequest,
    FlaskSessionService,
)
from pylti1p3.exception import LtiException, OIDCException

from lms.errors import DomainError, Forbidden
from lms.extensions import csrf, db
from lms.i18n import N_
from lms.models import UserRole
from lms.services import lti_keys, lti_launch, lti_platforms, lti_roster, manual_grading
from lms.web.access import STAFF, roles_required
from lms.web.errors import describe, error_response, status_for
from lms.web.headers import PAGE_CSP

bp = Blueprint("lti", __name__)

# pylti1p3's refusals, said for a person (in their language) with what to do.
_REFUSALS = {
    "State not found": N_(
        "The launch does not match a login started here (unknown or expired state): "
        "open the link again from the LMS, in a browser that accepts this site's cookies."
    ),
    "Missing state param": N_("The launch has no state: open the link again from the LMS."),
    "Invalid Nonce": N_(
        "This launch was already used (or its login expired): open the link again from the LMS."
    ),
    '"nonce" is empty': N_("The launch token has no nonce: the LMS must send one."),
    "Unable to find deployment": N_(
        "This deployment of the tool is not registered here: an administrator must add its "
        "deployment id to the platform."
    ),
    "Registration not found.": N_("This LMS is not registered here: an administrator must add it."),
    "Could not find registration details": N_(
        "This LMS is not registered here: an administrator must add it."
    ),
    "Unable to find public key": N_(
        "The launch token was signed with a key the LMS does not publish: it is refused."
    ),
}
_BAD_SIGNATURE = N_(
    "The launch token is not valid (its signature, dates or content do not verify against "
    "the LMS's published keys): it is refused."
)


def _refusal(error: Exception) -> DomainError:
    text = str(error)
    if isinstance(error, DomainError):
        return error
    if text in _REFUSALS:
        return Forbidden(_REFUSALS[text])
    if text.startswith("Can't decode id_token") or text.startswith("Invalid"):
        return Forbidden(_BAD_SIGNATURE)
    return Forbidden(N_("The LMS launch was refused: %(reason)s"), reason=text)


def _refused(error: Exception):
    refusal = _refusal(error)
    return error_response(status_for(refusal), describe(refusal))


def _tool():
    return lti_platforms.DatabaseToolConf(db.session), lti_launch.DatabaseLaunchData(db.session)


@bp.get("/lti/jwks.json")
def jwks():
    """Our public keys (the signing key and recently retired ones), for platforms to verify."""
    response = jsonify(lti_keys.jwks(db.session))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.route("/lti/login", methods=["GET", "POST"])
@csrf.exempt
def login():
    """OIDC third-party initiated login: back to the LMS's authorisation endpoint."""
    conf, storage = _tool()
    flask_request = FlaskRequest()
    try:
        oidc = FlaskOIDCLogin(
            flask_request,
            conf,
            session_service=FlaskSessionService(flask_request),
            cookie_service=FlaskCookieService(flask_request),
            launch_data_storage=storage,
        )
        return oidc.redirect(url_for(".launch", _external=True))
    except (LtiException, OIDCException) as error:
        return _refused(error)


@bp.post("/lti/launch")
@csrf.exempt
def launch():
    """A resource-link launch: validated, the LMS user signed in, the exercise opened."""
    conf, storage = _tool()
    flask_request = FlaskRequest()
    try:
        message = FlaskMessageLaunch(
            flask_request,
            conf,
            session_service=FlaskSessionService(flask_request),
            cookie_service=FlaskCookieService(flask_request),
            launch_data_storage=storage,
            requests_session=lti_platforms.http_session(),
        )
        claims = message.get_launch_data()
        lti_launch.consume_nonce(db.session, claims["nonce"])
        if message.is_deep_link_launch():
            return _start_deep_linking(claims)
        landed = lti_launch.accept_resource_launch(db.session, claims)
    except (LtiException, OIDCException, DomainError) as error:
        db.session.rollback()
        return _refused(error)
    login_user(landed.user)
    roster = (claims.get(lti_roster.NRPS_CLAIM) or {}).get("context_memberships_url")
    if roster and landed.user.is_staff:
        session["lti_roster"] = {
            "platform_id": landed.platform_id,
            "url": roster,
            "context": claims.get(lti_launch.CLAIM + "context") or {},
        }
    return redirect(url_for("exercises.exercise", slug=landed.exercise_slug), 303)


def _start_deep_linking(claims: dict):
    picking = lti_launch.accept_deep_linking(db.session, claims)
    login_user(picking.user)
    # In the signed session cookie: the answer goes to this platform's return URL only.
    session["lti_deep_link"] = {
        "platform_id": picking.platform_id,
        "deployment_id": picking.deployment_id,
        "settings": picking.settings,
    }
    return redirect(url_for(".deep_link"), 303)


@bp.route("/lti/roster", methods=["GET", "POST"])
@roles_required(*STAFF)
def roster():
    """Names and roles: import the roster of the LMS course this instructor launched from."""
    launched = session.get("lti_roster")
    if not launched:
        return error_response(
            400,
            _("Open an Atlas link from the LMS course first: its roster is imported from there."),
        )
    title = launched["context"].get("title") or launched["context"].get("id", "")
    if request.method == "GET":
        return render_template("lti/roster.html", course=title)
    done = lti_roster.import_roster(
        db.session, launched["platform_id"], launched["url"], launched["context"]
    )
    return render_template("lti/roster.html", course=title, done=done)


@bp.route("/lti/deep-link", methods=["GET", "POST"])
@roles_required(*STAFF)
def deep_link():
    """Deep linking: the instructor picks an exercise; the signed answer goes back to the LMS."""
    picking = session.get("lti_deep_link")
    if not picking:
        return error_response(
            400, _("Start from the LMS: add an activity and choose Atlas as its tool.")
        )
    if request.method == "GET":
        return render_template("lti/deep_link.html", exercises=manual_grading.exercises(db.session))
    slug = request.form.get("exercise", "")
    token = lti_launch.deep_link_response(
        db.session,
        picking["platform_id"],
        picking["deployment_id"],
        picking["settings"],
        slug,
        url_for("exercises.exercise", slug=slug, _external=True),
    )
    session.pop("lti_deep_link", None)
    return_url = picking["settings"]["deep_link_return_url"]
    response = make_response(
        render_template("lti/deep_link_return.html", return_url=return_url, token=token)
    )
    # This one form posts to the LMS: our page policy allows it that origin and no other.
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(return_url))
    response.headers["Content-Security-Policy"] = PAGE_CSP.replace(
        "form-action 'self'", f"form-action 'self' {origin}"
    )
    return response


def _platform_input() -> lti_platforms.PlatformInput:
    fields = lti_platforms.PlatformInput.__dataclass_fields__
    return lti_platforms.PlatformInput(**{name: request.form.get(name, "") for name in fields})


def _admin_page(status: int = 200, error: str | None = None, form=None):
    return render_template(
        "admin/lti.html",
        platforms=lti_platforms.list_platforms(db.session),
        keys=lti_keys.published_keys(db.session),
        signing_kid=lti_keys.signing_key(db.session).kid,
        error=error,
        form=form or {},
    ), status


@bp.route("/admin/lti", methods=["GET", "POST"])
@roles_required(UserRole.ADMIN)
def admin():
    """Registered LMS platforms, the URLs to give an LMS, our keys; a form to register one."""
    if request.method == "GET":
        return _admin_page()
    try:
        lti_platforms.register(db.session, _platform_input(), current_user.id)
    except DomainError as error:
        return _admin_page(status_for(error), describe(error), request.form)
    flash(_("Platform registered."), "info")
    return redirect(url_for(".admin"), 303)


@bp.post("/admin/lti/platforms/<int:platform_id>")
@roles_required(UserRole.ADMIN)
def update_platform(platform_id: int):
    """Change a platform's endpoints or deployments."""
    try:
        lti_platforms.update(db.session, platform_id, _platform_input(), current_user.id)
    except DomainError as error:
        return _admin_page(status_for(error), describe(error))
    flash(_("Platform updated."), "info")
    return redirect(url_for(".admin"), 303)


@bp.post("/admin/lti/platforms/<int:platform_id>/delete")
@roles_required(UserRole.ADMIN)
def remove_platform(platform_id: int):
    """Remove a platform (its launches stop)."""
    lti_platforms.remove(db.session, platform_id, current_user.id)
    flash(_("Platform removed."), "info")
    return redirect(url_for(".admin"), 303)


@bp.post("/admin/lti/keys/rotate")
@roles_required(UserRole.ADMIN)
def rotate_key():
    """A new signing key; the previous one stays published for the grace period."""
    lti_keys.rotate(db.session, current_user.id)
    flash(_("New signing key made; the previous one stays published for two days."), "info")
    return redirect(url_for(".admin"), 303)
