"""The Open Badges 3.0 OpenBadgeCredential JSON schema, written here from the 1EdTech
specification (data model section "OpenBadgeCredential", with the Profile, AchievementSubject,
Achievement, Criteria and IdentityObject classes it requires). It checks what the spec makes
mandatory and the types of what we fill in; extra properties are allowed, as in the spec."""

from __future__ import annotations

from typing import Any

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"

_URI = {"type": "string", "pattern": r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$"}
_DATETIME = {
    "type": "string",
    "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$",
}


def _types_containing(name: str) -> dict[str, Any]:
    # A "type" is one IRI or a list of them, and must include the class's own name.
    return {
        "oneOf": [
            {"const": name},
            {
                "type": "array",
                "items": {"type": "string"},
                "contains": {"const": name},
                "minItems": 1,
            },
        ]
    }


OPEN_BADGE_CREDENTIAL_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "OpenBadgeCredential (Open Badges 3.0)",
    "type": "object",
    "required": ["@context", "id", "type", "issuer", "validFrom", "name", "credentialSubject"],
    "properties": {
        "@context": {
            "type": "array",
            "minItems": 2,
            "prefixItems": [{"const": VC_CONTEXT}],
            "contains": {"const": OB_CONTEXT},
        },
        "id": _URI,
        "type": {
            "type": "array",
            "allOf": [
                {"contains": {"const": "VerifiableCredential"}},
                {"contains": {"const": "OpenBadgeCredential"}},
            ],
        },
        "name": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "validFrom": _DATETIME,
        "validUntil": _DATETIME,
        "issuer": {
            "oneOf": [
                _URI,
                {
                    "type": "object",
                    "required": ["id", "type"],
                    "properties": {
                        "id": _URI,
                        "type": _types_containing("Profile"),
                        "name": {"type": "string"},
                        "url": _URI,
                    },
                },
            ]
        },
        "credentialSubject": {
            "type": "object",
            "required": ["type", "achievement"],
            "anyOf": [{"required": ["id"]}, {"required": ["identifier"]}],
            "properties": {
                "id": _URI,
                "type": _types_containing("AchievementSubject"),
                "identifier": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["type", "identityHash", "identityType", "hashed"],
                        "properties": {
                            "type": {"const": "IdentityObject"},
                            "identityHash": {"type": "string"},
                            "identityType": {"type": "string"},
                            "hashed": {"type": "boolean"},
                            "salt": {"type": "string"},
                        },
                    },
                },
                "achievement": {
                    "type": "object",
                    "required": ["id", "type", "name", "description", "criteria"],
                    "properties": {
                        "id": _URI,
                        "type": _types_containing("Achievement"),
                        "name": {"type": "string", "minLength": 1},
                        "description": {"type": "string"},
                        "achievementType": {"type": "string"},
                        "criteria": {
                            "type": "object",
                            "anyOf": [{"required": ["id"]}, {"required": ["narrative"]}],
                            "properties": {"id": _URI, "narrative": {"type": "string"}},
                        },
                    },
                },
            },
        },
        "credentialStatus": {
            "type": "object",
            "required": ["id", "type"],
            "properties": {"id": _URI, "type": {"type": "string"}},
        },
    },
}


def schema_errors(document: dict[str, Any]) -> list[str]:
    """What in `document` breaks the OpenBadgeCredential schema (empty when it validates)."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(OPEN_BADGE_CREDENTIAL_SCHEMA)
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
        for error in validator.iter_errors(document)
    ]
