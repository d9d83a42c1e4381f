"""An instructor in real Chromium regrades an exercise and watches the progress move to done
(the page polls and reloads itself), with the real grading workers; then sets a due date."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_talent_journey import sign_in

pytestmark = pytest.mark.e2e
INSTRUCTOR = "instructor@example.org"


@pytest.fixture
def regrade_server(app_factory, fixture_content: Path, password_hash: str, serve) -> Iterator[str]:
    """The fixture content, an instructor, and a trainee's attempt graded by the workers."""
    import time

    from sqlalchemy import select

    from lms.extensions import db
    from lms.models import Submission, SubmissionPurpose, SubmissionStatus, User, UserRole
    from lms.queue import get_queue
    from lms.services import submissions
    from lms.services.content_import import import_content

    app = app_factory(GRADING_WORKERS=1)
    with db.sessionmaker_for(app)() as session:
        import_content(session, fixture_content)
        trainee = User(email="t@example.org", role=UserRole.TRAINEE, password_hash=password_hash)
        session.add_all(
            [trainee, User(email=INSTRUCTOR, role=UserRole.INSTRUCTOR, password_hash=password_hash)]
        )
        session.commit()
        source = fixture_content / "exercises" / "squares" / "squares.ipynb"
        queued = submissions.submit(
            session,
            user_id=trainee.id,
            exercise_slug="squares",
            notebook=source.read_bytes(),
            name="squares.ipynb",
            origin="upload",
            purpose=SubmissionPurpose.GRADE,
            token="e2e",
        )
    queue = get_queue(app)
    queue.start()
    try:
        with db.sessionmaker_for(app)() as session:
            for _ in range(600):  # the first grade, before the instructor arrives
                status = session.scalar(
                    select(Submission.status).where(Submission.id == queued.submission_id)
                )
                session.rollback()
                if status is SubmissionStatus.GRADED:
                    break
                time.sleep(0.1)
        with serve(app) as base_url:
            yield base_url
    finally:
        queue.stop()


def test_instructor_regrades_and_sees_progress(regrade_server: str, browser_page: Page) -> None:
    page = browser_page
    sign_in(page, regrade_server, INSTRUCTOR)
    page.goto(f"{regrade_server}/instructor/gradebook/")
    page.get_by_label("Exercise").select_option("squares")
    page.get_by_role("button", name="Regrade every graded attempt").click()
    expect(page.get_by_role("heading", name="Regrade of Squares")).to_be_visible()
    # The workers finish it; the page's script sees it and reloads with the scores.
    expect(page.locator("[data-done-line]")).to_have_text("1 of 1 done")
    expect(page.locator("#regrade-progress")).to_have_attribute("data-finished", "true")
    expect(page.locator('#regrade-items tr[data-status="regraded"]')).to_have_count(1)
    page.get_by_role("link", name="Gradebook").click()
    expect(page.locator("ul.regrade-runs li")).to_contain_text("1 of 1 done")

    # A due date with a penalty, from the exercise's heading.
    page.get_by_role("link", name="squares").first.click()
    page.get_by_label("Due date (UTC)").first.fill("2026-12-10T17:00")
    page.get_by_label("Late policy").select_option("penalty")
    page.get_by_label("Penalty per day (%)").fill("10")
    page.locator("#schedule-form").get_by_role("button", name="Save").click()
    expect(page.get_by_text("Due date and late policy saved.")).to_be_visible()
    expect(page.get_by_label("Late policy")).to_have_value("penalty")
