"""Every page type in real Chromium, at 390 px (a phone) and on a laptop: axe-core (from npm,
installed by `lms build-assets`) finds no serious or critical violation, and no page scrolls
sideways at 390 px."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page
from sqlalchemy import select

from tests.e2e.conftest import AXE, require_built, sign_in

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
SERIOUS = ("serious", "critical")
SHOTS = os.environ.get("LMS_E2E_SCREENSHOTS")  # a folder: full-page screenshots to look at
EMAILS = {
    "trainee": "trainee@example.org",
    "recruiter": "recruiter@example.org",
    "instructor": "instructor@example.org",
    "admin": "admin@example.org",
}


@dataclass(frozen=True)
class Site:
    """The served app and the ids its pages need."""

    base: str
    trainee_id: int
    submission_id: int


@pytest.fixture
def site(app_factory, password_hash: str, serve) -> Iterator[Site]:
    """The talent content, one account per role, a shared report with history, and one
    submission waiting in the queue (no worker runs: its page shows it queued)."""
    from lms.extensions import db
    from lms.models import SubmissionPurpose, User, UserRole
    from lms.services import submissions, talent
    from lms.services.content_import import import_content
    from lms.services.results_import import import_results
    from tests.talent.conftest import TALENT_CONTENT, results_csv, strong_history

    app = app_factory()
    with db.sessionmaker_for(app)() as session:
        import_content(session, TALENT_CONTENT)
        for role, email in EMAILS.items():
            session.add(
                User(
                    email=email,
                    role=UserRole(role),
                    password_hash=password_hash,
                    display_name=role.title(),
                )
            )
        session.commit()
        import_results(session, results_csv(strong_history(EMAILS["trainee"])), "history.csv")
        trainee_id = session.scalar(select(User.id).where(User.email == EMAILS["trainee"]))
        talent.set_sharing(session, trainee_id, True)
        exercise = submissions.get_exercise(session, "squares")
        queued = submissions.submit(
            session,
            user_id=trainee_id,
            exercise_slug="squares",
            notebook=submissions.notebook_from_answers(session, exercise, {}),
            name="squares.ipynb",
            origin="browser",
            purpose=SubmissionPurpose.GRADE,
            token="a11y",
        )
    with serve(app) as base_url:
        yield Site(base_url, trainee_id, queued.submission_id)


def _pages(role: str, site: Site) -> list[str]:
    report = f"/recruiter/candidates/{site.trainee_id}"
    return {
        "anonymous": ["/login"],
        "trainee": [
            "/learn",
            "/courses/intro",
            "/courses/intro/basics/01-hello",
            "/exercises/squares",
            f"/submissions/{site.submission_id}",
            "/skills/",
            "/account/password",
        ],
        "recruiter": [
            "/recruiter/",
            "/recruiter/roles/junior-dev/pipeline",
            "/recruiter/roles/junior-dev/candidates",
            report,
        ],
        "instructor": ["/instructor/", "/instructor/exercises/squares", "/instructor/grading"],
        "admin": ["/admin/", "/admin/audit", "/admin/talent/", "/admin/ops/"],
    }[role]


def _sign_in(page: Page, base: str, role: str) -> None:
    if role != "anonymous":
        sign_in(page, base, EMAILS[role])


def _serious_violations(page: Page) -> list[str]:
    page.evaluate(AXE.read_text())  # through the DevTools protocol: the page's CSP stays on
    found = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .map(v => ({id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"""
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes']}"
        for v in found
        if v["impact"] in SERIOUS
    ]


@pytest.mark.parametrize("locale", ["en", "fr"])
@pytest.mark.parametrize("role", ["anonymous", "trainee", "recruiter", "instructor", "admin"])
def test_no_serious_violation_and_no_sideways_scroll(
    site: Site, browser_page: Page, role: str, locale: str
) -> None:
    require_built(AXE)
    page = browser_page
    _sign_in(page, site.base, role)
    if locale == "fr":
        page.goto(f"{site.base}/login" if role == "anonymous" else f"{site.base}/account/password")
        page.get_by_role("button", name="Français").click()
        page.wait_for_function("document.documentElement.lang === 'fr'")
    problems = []
    for size, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(viewport)
        for path in _pages(role, site):
            response = page.goto(site.base + path)
            assert response is not None and response.status == 200, path
            page.wait_for_load_state("load")
            problems += [f"{size} {path}: {v}" for v in _serious_violations(page)]
            if SHOTS:
                name = f"{role}-{locale}-{size}{path.replace('/', '_')}.png"
                page.screenshot(path=str(Path(SHOTS) / name), full_page=True)
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > viewport["width"]:
                problems.append(f"{size} {path}: {width} px wide, scrolls sideways")
    assert problems == [], "\n".join(problems)
    if role == "anonymous":
        return  # the sign-in page puts the focus in its e-mail field at once
    # The first Tab reaches the skip link, which takes the focus past the navigation.
    page.goto(site.base + _pages(role, site)[0])
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
