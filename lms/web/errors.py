"""Error pages (and JSON errors for scripts) that say what went wrong and what to do."""

from __future__ import annotations

from flask import Flask, flash, jsonify, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from lms.errors import DomainError
from lms.web.access import wants_json

# What each kind of refusal (lms.errors) means for an HTTP response: decided here, once.
STATUS_BY_KIND = {
    "invalid": 400,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "too_large": 413,
    "too_many": 429,
    "unavailable": 502,
}


def _messages() -> dict[int, str]:
    return {
        400: _("The request was not understood. Reload the page and try again."),
        401: _("Please sign in first."),
        403: _("Your account cannot open this page."),
        404: _("This page does not exist, or it is not yours to see."),
        405: _("This address does not accept that kind of request."),
        409: _("This was already done."),
        413: _(
            "The file is too large. Notebooks up to %(mb)s MB are accepted; clear the outputs "
            "(Kernel > Restart & Clear Output) and try again."
        ),
        429: _("Too many requests. Wait a moment and try again."),
        500: _("Something went wrong on our side. Nothing you submitted was lost."),
    }


def describe(error: DomainError) -> str:
    """A service's refusal in the user's language, its parameters filled in."""
    return _(error.message, **error.params)


def status_for(error: DomainError) -> int:
    """The HTTP status for a refusal's kind."""
    return STATUS_BY_KIND.get(error.kind, 400)


def flash_refusal(error: DomainError) -> None:
    """Show a refusal on the next page (for views that redirect after a form)."""
    flash(describe(error), "error")


def error_response(status: int, message: str | None = None):
    """An error page (or JSON body) with the status and a clear message."""
    from flask import current_app

    text = message
    if text is None:
        text = _messages().get(status, _("Something went wrong."))
        if status == 413:
            text = text % {"mb": round(current_app.config["MAX_CONTENT_LENGTH"] / 1_048_576, 1)}
    if wants_json():
        return jsonify(error=text, status=status), status
    return render_template("errors/error.html", status=status, message=text), status


def register(app: Flask) -> None:
    """Install the handlers on `app`."""

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return error_response(
            400,
            _(
                "Your session expired or the form is stale (%(reason)s). "
                "Reload the page and submit again.",
                reason=error.description,
            ),
        )

    @app.errorhandler(DomainError)
    def refused(error: DomainError):
        return error_response(status_for(error), describe(error))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        return error_response(error.code or 500)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        app.logger.exception("unhandled error", exc_info=error)
        return error_response(500)
