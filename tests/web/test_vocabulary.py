"""Roles and exercise kinds are defined once (on the enums) and every page and command uses them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask.testing import FlaskClient

from lms.api.openapi import openapi_document
from lms.cli.web import DEMO_ACCOUNTS, create_user
from lms.content.model import EXERCISE_KINDS
from lms.models import ExerciseKind, UserRole
from lms.models.accounts import LEARNER_ROLES, STAFF_ROLES, TALENT_ROLES
from lms.readiness.evidence import EVIDENCE_KINDS

LMS = Path(__file__).resolve().parents[2] / "lms"
CATALOGUE = LMS / "translations/fr/LC_MESSAGES/messages.po"

# Each role's links in the navigation bar (by the label shown in English).
NAVIGATION = {
    "My courses": LEARNER_ROLES,
    "My skills": (UserRole.TRAINEE,),
    "My credentials": (UserRole.TRAINEE,),
    "Teaching": STAFF_ROLES,
    "Credentials": STAFF_ROLES,
    "Pipeline": TALENT_ROLES,
    "Accounts": (UserRole.ADMIN,),
    "Operations": (UserRole.ADMIN,),
    "Hiring plan": (UserRole.ADMIN,),
}


def test_every_label_exists_in_french() -> None:
    with CATALOGUE.open("rb") as handle:
        french = {m.id: m.string for m in read_po(handle) if m.id and not m.fuzzy}
    labels = [role.label for role in UserRole] + [kind.label for kind in ExerciseKind]
    assert len(set(labels)) == len(labels)
    for label in labels:
        assert french.get(label) and french[label] != label, f"no French for {label!r}"


def test_the_kinds_have_one_definition() -> None:
    values = tuple(kind.value for kind in ExerciseKind)
    assert EXERCISE_KINDS == values  # content validation
    assert EVIDENCE_KINDS == values  # readiness evidence
    evidence = openapi_document()["components"]["schemas"]["Evidence"]
    assert tuple(evidence["properties"]["kind"]["enum"]) == values


def test_the_command_line_offers_every_role() -> None:
    role_option = next(p for p in create_user.params if p.name == "role")
    assert tuple(role_option.type.choices) == tuple(role.value for role in UserRole)
    assert [account[1] for account in DEMO_ACCOUNTS] == list(UserRole)


def test_no_template_spells_out_a_role_or_a_kind() -> None:
    values = "|".join(member.value for member in (*UserRole, *ExerciseKind))
    quoted = re.compile(rf"""['"]({values})['"]""")
    offenders = [
        f"{path.relative_to(LMS)}: {match.group(0)}"
        for path in sorted((LMS / "templates").rglob("*.html"))
        for match in quoted.finditer(path.read_text())
    ]
    assert offenders == []


@pytest.mark.parametrize("role", list(UserRole))
def test_the_navigation_follows_the_role_groups(
    role: UserRole, client: FlaskClient, auth, users
) -> None:
    auth.login(getattr(users, role.value))
    page = client.get("/account/password").get_data(as_text=True)
    nav = page[page.index("<nav>") : page.index("</nav>")]
    shown = {label for label in NAVIGATION if f">{label}</a>" in nav}
    assert shown == {label for label, roles in NAVIGATION.items() if role in roles}


def test_the_accounts_page_names_roles_in_the_users_language(
    client: FlaskClient, auth, users
) -> None:
    auth.login(users.admin)
    english = client.get("/admin/").get_data(as_text=True)
    assert "<td>Recruiter</td>" in english and '<option value="recruiter">Recruiter' in english
    client.post("/language", data={"locale": "fr", "csrf_token": auth.token("/admin/")})
    french = client.get("/admin/").get_data(as_text=True)
    assert "<td>Recruteur</td>" in french and "<td>Administrateur</td>" in french
    assert '<option value="trainee">Stagiaire' in french
