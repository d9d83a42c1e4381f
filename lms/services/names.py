"""What skills, roles and exercises are called in a language (French when given, else English).

Services that put names on a page or in an export take the page's `language` and look the names
up here, one query per kind, so a French recruiter or trainee never reads an English skill name
that has a French one.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lms.models import Exercise, Role, Skill


def localized(column, french_column, language: str):
    """A column expression: the French column when `language` is French and it is filled in."""
    if language == "fr":
        return func.coalesce(func.nullif(french_column, ""), column)
    return column


def skill_names(session: Session, language: str = "en") -> dict[str, str]:
    """Skill id -> its name in `language`."""
    return dict(
        session.execute(select(Skill.id, localized(Skill.name, Skill.name_fr, language))).all()
    )


def role_names(session: Session, language: str = "en") -> dict[str, str]:
    """Role id -> its name in `language` (the id when it has no name)."""
    rows = session.execute(select(Role.id, localized(Role.name, Role.name_fr, language))).all()
    return {role_id: name or role_id for role_id, name in rows}


def exercise_titles(session: Session, language: str = "en") -> dict[str, str]:
    """Exercise slug -> its title in `language`."""
    return dict(
        session.execute(
            select(Exercise.slug, localized(Exercise.title, Exercise.title_fr, language))
        ).all()
    )
