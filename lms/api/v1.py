"""/api/v1: roles, readiness per role, and shared candidates' reports, for recruiters' systems.

Every route but the OpenAPI document needs `Authorization: Bearer <token>` (tokens come from
`lms create-token` or the admin page). Requests carry no cookie, so CSRF does not apply.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request, stream_with_context
from werkzeug.exceptions import HTTPException

from lms.api.openapi import openapi_document
from lms.extensions import csrf, db
from lms.services import api_tokens, candidates, talent
from lms.services import role_readiness as readiness_figures

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
PUBLIC_ENDPOINTS = {"api_v1.openapi"}


@bp.before_request
def authenticate() -> Any:
    """Resolve the bearer token to its recruiter or admin; refuse with 401 otherwise."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    user = api_tokens.user_for_token(db.session, token.strip()) if scheme == "Bearer" else None
    if user is None:
        response = jsonify(
            error="Send a valid API token: Authorization: Bearer <token>"
            " (create one with `lms create-token --email ...`).",
            status=401,
        )
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="atlas"'
        return response
    g.api_user = user
    return None


@bp.errorhandler(HTTPException)
def json_error(error: HTTPException) -> Any:
    """Errors as JSON, with a sentence saying what was wrong."""
    return jsonify(error=error.description, status=error.code), error.code


@bp.get("/openapi.json")
def openapi() -> Any:
    """The OpenAPI 3 document describing this API."""
    return jsonify(openapi_document())


@bp.get("/roles")
def roles() -> Any:
    """Target roles, their required skills and the hiring plan."""
    plan = talent.hiring_plan(db.session)
    return jsonify(
        [
            {
                "id": role.id,
                "name": role.name,
                "track": role.track,
                "wanted": plan.get(role.id, (0, None))[0],
                "wanted_by": _iso(plan.get(role.id, (0, None))[1]),
                "skills": [
                    {
                        "skill": s.skill_id,
                        "level": s.level,
                        "weight": s.weight,
                        "critical": s.critical,
                    }
                    for s in role.skills
                ],
            }
            for role in talent.target_roles(db.session)
        ]
    )


@bp.get("/roles/<role_id>/readiness")
def role_readiness(role_id: str) -> Any:
    """Shared candidates' readiness for a role, best first (the shape of `lms readiness`)."""
    shared = talent.shared_trainee_ids(db.session)
    ranked = readiness_figures.role_readiness(db.session, role_id, user_ids=shared)
    if ranked is None:
        return jsonify(
            error=f"There is no role {role_id!r}; GET /api/v1/roles lists them.", status=404
        ), 404
    db.end_reads()  # the figures are loaded: no transaction while the answer is sent
    return Response(
        stream_with_context(
            json_array({"id": entry.trainee.id, **entry.as_json()} for entry in ranked)
        ),
        mimetype="application/json",
    )


def json_array(items: Iterable[Any]) -> Iterator[str]:
    """A JSON array, an item at a time: the same text `jsonify` gives for the whole list
    (compact, keys sorted, a final newline)."""
    dumps = current_app.json.dumps
    yield "["
    for number, item in enumerate(items):
        yield ("," if number else "") + dumps(item, separators=(",", ":"))
    yield "]\n"


def _iso(day: Any) -> str | None:
    return day.isoformat() if day else None


@bp.get("/candidates/<int:trainee_id>")
def candidate(trainee_id: int) -> Any:
    """A shared candidate's readiness for every role, with the evidence (404 if not shared)."""
    report = candidates.candidate_report(db.session, trainee_id)
    if report is None:
        return jsonify(error="No shared report for this candidate.", status=404), 404
    return jsonify(
        {
            "id": trainee_id,
            "email": report.trainee.email,
            "name": report.trainee.name,
            "as_of": report.as_of.isoformat(),
            "roles": [r.as_json() for r in report.readiness.values()],
        }
    )
