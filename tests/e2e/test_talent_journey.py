"""A recruiter and a trainee in real Chromium: pipeline, candidates, a shared report; My skills."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e

RECRUITER = "recruiter@example.org"
SHARED = "trainee@example.org"
PRIVATE = "other@example.org"


@pytest.fixture
def talent_server(app_factory, password_hash: str, serve) -> Iterator[str]:
    """The app with the talent content, a recruiter, a ready trainee who shared their report and
    a trainee who did not, served on a free local port; its base URL."""
    from lms.extensions import db

    app = app_factory()
    with db.sessionmaker_for(app)() as session:
        talent_world(session, password_hash)
    with serve(app) as base_url:
        yield base_url


def talent_world(session, password_hash: str) -> int:
    """The talent content, the recruiter and the two trainees, the shared one sharing; the
    shared trainee's id."""
    from lms.models import User, UserRole
    from lms.services import talent
    from lms.services.content_import import import_content
    from lms.services.results_import import import_results
    from tests.talent.conftest import TALENT_CONTENT, results_csv, strong_history

    import_content(session, TALENT_CONTENT)
    for email, role in (
        (RECRUITER, UserRole.RECRUITER),
        (SHARED, UserRole.TRAINEE),
        (PRIVATE, UserRole.TRAINEE),
    ):
        session.add(
            User(
                email=email,
                role=role,
                password_hash=password_hash,
                display_name=email.split("@")[0].title(),
            )
        )
    session.commit()
    import_results(
        session,
        results_csv(strong_history(SHARED) + _first_exercise_only(strong_history(PRIVATE, 2))),
        "history.csv",
    )
    shared_id = session.scalar(select(User.id).where(User.email == SHARED))
    talent.set_sharing(session, shared_id, True)
    return shared_id


def _first_exercise_only(rows: list[tuple]) -> list[tuple]:
    """A trainee who has done only the first exercise: the others are their next modules."""
    first = rows[0][1]
    return [row for row in rows if row[1] == first]


def test_recruiter_journey(talent_server: str, browser_page: Page) -> None:
    page = browser_page
    sign_in(page, talent_server, RECRUITER)
    expect(page.get_by_role("heading", name="Hiring pipeline")).to_be_visible()
    row = page.locator("#pipeline tr[data-role=junior-dev]")
    expect(row.locator("[data-count=ready]")).to_have_text("1")
    row.get_by_role("link", name="Junior developer").click()
    expect(page.get_by_role("heading", name="Junior developer")).to_be_visible()
    page.get_by_role("link", name="See the candidates").click()
    expect(page.locator("#candidates tbody tr")).to_have_count(1)  # the other did not share
    expect(page.locator("#candidates")).not_to_contain_text(PRIVATE)
    page.locator("#filters select[name=sort]").select_option("email")
    page.locator("#filters").get_by_role("button", name="Filter").click()
    page.get_by_role("link", name="Trainee").click()
    expect(page.get_by_role("heading", name="Readiness report: Trainee")).to_be_visible()
    status = page.locator(".role-report[data-role=junior-dev] .status")
    expect(status).to_have_class(re.compile(r"\bstatus-ready\b"))
    expect(status).to_have_text("Ready")  # the status's label, in the page's language
    expect(page.locator("table.evidence").first).to_contain_text("Squares")
    expect(page.locator("svg.chart").first).to_be_visible()
    page.locator("select[name=status]").select_option("shortlisted")
    page.get_by_role("button", name="Save mark").click()
    expect(page.locator("#marks")).to_contain_text("shortlisted")


def test_trainee_journey(talent_server: str, browser_page: Page) -> None:
    page = browser_page
    sign_in(page, talent_server, PRIVATE)
    expect(page.get_by_role("heading", name="My courses")).to_be_visible()
    page.get_by_role("link", name="My skills").click()
    expect(page.get_by_role("heading", name="My skills")).to_be_visible()
    expect(page.locator(".role-gap[data-role=junior-dev] svg.chart")).to_be_visible()
    expect(page.locator(".next-modules")).to_contain_text("Introduction › Basics")
    expect(page.locator("#sharing-state")).to_contain_text("private")
    page.get_by_role("button", name="Share my report with recruiters").click()
    expect(page.locator("#sharing-state")).to_contain_text("Recruiters can see")
    expect(page.get_by_role("button", name="Stop sharing my report")).to_be_visible()
