"""Talent fixtures: graded history for the fixture trainees, imported through the real CSV path."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.models import User
from lms.services.results_import import COLUMNS, import_results

HEADER = ",".join(COLUMNS)


def results_csv(rows: list[tuple]) -> bytes:
    """A results CSV from (email, exercise, grade_id, score, max_score, submitted_at, kind)."""
    lines = [HEADER] + [",".join(str(v) for v in row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


TALENT_CONTENT = Path(__file__).parent / "content"
# The talent content: the fixture course with two more exercises on the same skills (a practice
# one and an assessment), so that a role can be demonstrated by distinct work.
EXERCISES = (("squares", "practice"), ("cubes", "practice"), ("squares-check", "assessment"))


@pytest.fixture
def content(app, session: Session):
    """The talent content tree imported (overrides the shared one-exercise fixture)."""
    from lms.services.content_import import import_content

    return import_content(session, TALENT_CONTENT)


def strong_history(email: str, days: int = 10) -> list[tuple]:
    """Perfect work on every exercise, each done once over the last `days` days (ready)."""
    rows = []
    for number, (slug, kind) in enumerate(EXERCISES):
        at = (datetime.now(UTC) - timedelta(days=days + 1, hours=-number)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        rows += [
            (email, slug, "test_squares", 2, 2, at, kind),
            (email, slug, "test_total", 1, 1, at, kind),
        ]
    return rows


@dataclass
class TalentWorld:
    """Ids of the fixture users, the trainee with a strong history, the other with a weak one."""

    trainee_id: int
    other_id: int
    recruiter_id: int
    admin_id: int


@pytest.fixture
def world(session: Session, users, content) -> TalentWorld:
    """Content, users, graded history for both trainees (imported), nothing shared yet."""
    weak = [
        (
            users.other_trainee,
            "squares",
            "test_squares",
            0,
            2,
            (datetime.now(UTC) - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "practice",
        )
    ]
    import_results(session, results_csv(strong_history(users.trainee) + weak), "history.csv")
    ids = dict(session.execute(select(User.email, User.id)).all())
    session.rollback()  # SQLite: an open transaction would hold the write lock
    return TalentWorld(
        ids[users.trainee], ids[users.other_trainee], ids[users.recruiter], ids[users.admin]
    )
