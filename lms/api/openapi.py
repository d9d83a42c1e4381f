"""The OpenAPI 3.1 document of /api/v1, written by hand next to the routes it describes."""

from __future__ import annotations

from typing import Any

from lms.models import ExerciseKind

_NUMBER = {"type": "number", "minimum": 0, "maximum": 1}
_EVIDENCE = {
    "type": "object",
    "description": "One graded cell behind a mastery: where it came from and its weight.",
    "properties": {
        "exercise": {"type": "string"},
        "grade_id": {"type": "string"},
        "submission_id": {"type": ["string", "integer", "null"]},
        "attempt": {"type": "integer", "minimum": 1},
        "after_feedback": {"type": "boolean"},
        "kind": {"type": "string", "enum": [kind.value for kind in ExerciseKind]},
        "at": {"type": "string", "format": "date-time"},
        "score": {"type": "number"},
        "max_score": {"type": "number"},
        "weight": {"type": "number"},
    },
    "required": ["exercise", "grade_id", "attempt", "kind", "at", "score", "max_score", "weight"],
}
_SKILL = {
    "type": "object",
    "properties": {
        "skill": {"type": "string"},
        "mastery": _NUMBER,
        "low": _NUMBER,
        "high": _NUMBER,
        "target": _NUMBER,
        "weight": {"type": "number"},
        "critical": {"type": "boolean"},
        "demonstrated": {"type": "boolean"},
        "evidence_weight": {"type": "number"},
        "evidence": {"type": "array", "items": {"$ref": "#/components/schemas/Evidence"}},
    },
    "required": ["skill", "mastery", "low", "high", "evidence"],
}
_READINESS = {
    "type": "object",
    "properties": {
        "role": {"type": "string"},
        "readiness": _NUMBER,
        "low": _NUMBER,
        "high": _NUMBER,
        "status": {
            "type": "string",
            "enum": ["ready", "almost", "not ready", "not enough evidence"],
        },
        "reasons": {"type": "array", "items": {"type": "string"}},
        "skills": {"type": "array", "items": {"$ref": "#/components/schemas/SkillMastery"}},
    },
    "required": ["role", "readiness", "low", "high", "status", "skills"],
}
_CANDIDATE_READINESS = {
    "allOf": [
        {"$ref": "#/components/schemas/RoleReadiness"},
        {
            "type": "object",
            "properties": {"id": {"type": "integer"}, "email": {"type": "string"}},
            "required": ["id", "email"],
        },
    ]
}
_ROLE = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "track": {"type": "string"},
        "wanted": {"type": "integer"},
        "wanted_by": {"type": ["string", "null"], "format": "date"},
        "skills": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "skill": {"type": "string"},
                    "level": _NUMBER,
                    "weight": {"type": "number"},
                    "critical": {"type": "boolean"},
                },
            },
        },
    },
    "required": ["id", "name", "skills"],
}
_REPORT = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "email": {"type": "string"},
        "name": {"type": "string"},
        "as_of": {"type": "string", "format": "date-time"},
        "roles": {"type": "array", "items": {"$ref": "#/components/schemas/RoleReadiness"}},
    },
    "required": ["id", "email", "as_of", "roles"],
}
_ERROR = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "status": {"type": "integer"}},
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS = {
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "403": _json({"$ref": "#/components/schemas/Error"}, "The token's account may not do this."),
}


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document (a fresh dict: callers may change it)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Atlas recruiter API",
            "version": "1.0.0",
            "description": "Role readiness with the evidence behind it, for recruiters'"
            " systems. Only candidates who shared their report appear.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "paths": {
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document.",
                    "security": [],
                    "responses": {"200": _json({"type": "object"}, "The OpenAPI document.")},
                }
            },
            "/roles": {
                "get": {
                    "operationId": "listRoles",
                    "summary": "Target roles and the hiring plan.",
                    "responses": {
                        "200": _json(
                            {"type": "array", "items": {"$ref": "#/components/schemas/Role"}},
                            "Every role.",
                        ),
                        **_ERRORS,
                    },
                }
            },
            "/roles/{role_id}/readiness": {
                "get": {
                    "operationId": "roleReadiness",
                    "summary": "Shared candidates' readiness for a role, best first.",
                    "parameters": [
                        {
                            "name": "role_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": _json(
                            {
                                "type": "array",
                                "items": {"$ref": "#/components/schemas/CandidateReadiness"},
                            },
                            "Best first.",
                        ),
                        "404": _json({"$ref": "#/components/schemas/Error"}, "No such role."),
                        **_ERRORS,
                    },
                }
            },
            "/candidates/{trainee_id}": {
                "get": {
                    "operationId": "candidateReport",
                    "summary": "A shared candidate's readiness for every role, with evidence.",
                    "parameters": [
                        {
                            "name": "trainee_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer"},
                        }
                    ],
                    "responses": {
                        "200": _json(
                            {"$ref": "#/components/schemas/CandidateReport"}, "The report."
                        ),
                        "404": _json(
                            {"$ref": "#/components/schemas/Error"},
                            "No such candidate, or the report is not shared.",
                        ),
                        **_ERRORS,
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "From `lms create-token`.",
                }
            },
            "responses": {
                "Unauthorized": _json(
                    {"$ref": "#/components/schemas/Error"},
                    "No token, or an invalid or revoked one.",
                )
            },
            "schemas": {
                "Evidence": _EVIDENCE,
                "SkillMastery": _SKILL,
                "RoleReadiness": _READINESS,
                "CandidateReadiness": _CANDIDATE_READINESS,
                "Role": _ROLE,
                "CandidateReport": _REPORT,
                "Error": _ERROR,
            },
        },
    }
