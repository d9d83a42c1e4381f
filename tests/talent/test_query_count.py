"""The recruiter's pages cost the same number of SQL queries for 5 trainees as for 50."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from lms.extensions import db
from lms.services import role_readiness
from lms.services.seed import seed_cohort

PAGES = (
    "/recruiter/",
    "/recruiter/roles/junior-dev/pipeline",
    "/recruiter/roles/junior-dev/candidates",
    "/recruiter/roles/junior-dev/candidates?skill=testing&sort=skill",
    "/recruiter/roles/junior-dev/candidates.csv",
)


@contextmanager
def counting(app) -> Iterator[list[str]]:
    """Collect every SQL statement run on the app's engine while the block runs."""
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    engine = db.engine_for(app)
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _queries_per_page(tmp_path, fixture_content, password_hash, trainees: int) -> dict[str, int]:
    from lms.models import User, UserRole
    from lms.services.content_import import import_content
    from tests.conftest import AuthActions, make_test_app

    folder = tmp_path / f"cohort-{trainees}"
    folder.mkdir()
    app = make_test_app(folder)
    with db.sessionmaker_for(app)() as session:
        import_content(session, fixture_content)
        session.add(
            User(
                email="recruiter@example.org", role=UserRole.RECRUITER, password_hash=password_hash
            )
        )
        session.commit()
        seed_cohort(session, trainees, months=2, seed=trainees)
    client = app.test_client()
    AuthActions(client).login("recruiter@example.org")
    counts = {}
    for page in PAGES:
        client.get(page)  # warm: first-use queries (e.g. the user loader) are not what we test
        for cached in (False, True):
            if not cached:
                role_readiness.cache.clear()
            with counting(app) as statements:
                response = client.get(page)
            assert response.status_code == 200, page
            counts[(page, cached)] = len(statements)
    db.engine_for(app).dispose()
    return counts


@pytest.mark.parametrize("small, large", [(5, 50)])
def test_recruiter_pages_use_a_constant_number_of_queries(
    tmp_path, fixture_content, password_hash, small: int, large: int
) -> None:
    few = _queries_per_page(tmp_path, fixture_content, password_hash, small)
    many = _queries_per_page(tmp_path, fixture_content, password_hash, large)
    assert few == many, (few, many)
    # Constant is what matters (above); the cap only catches a page that grows a loop of
    # queries. The report reads consent, flags, clearances and fingerprints besides evidence;
    # an empty readiness cache also reads the difficulties (fitted jointly with the cohort's
    # abilities, so from the cohort's evidence: its few queries) and each trainee's version.
    assert max(many.values()) <= 40, many
