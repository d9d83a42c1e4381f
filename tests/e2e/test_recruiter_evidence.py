"""A recruiter in real Chromium follows a readiness figure to the graded notebook behind it."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.e2e.conftest import sign_in
from tests.e2e.test_talent_journey import RECRUITER, talent_world

pytestmark = pytest.mark.e2e


@pytest.fixture
def evidence_server(app_factory, password_hash: str, serve) -> Iterator[tuple[str, int, int]]:
    """The talent world plus one notebook the shared trainee handed in and our grader graded;
    the base URL, the trainee's id and the submission's id."""
    from lms.extensions import db
    from lms.models import Blob, Exercise
    from tests.talent.test_evidence_integrity import graded

    app = app_factory()
    with db.sessionmaker_for(app)() as session:
        trainee = talent_world(session, password_hash)
        release = session.scalar(
            select(Blob.data)
            .join(Exercise, Exercise.release_sha256 == Blob.sha256)
            .where(Exercise.slug == "squares")
        )
        handed_in = json.loads(release)
        for cell in handed_in["cells"]:
            if "NotImplementedError" in "".join(cell["source"]):
                cell["source"] = "def squares(n):\n    return [i * i for i in range(n)]  # MINE\n"
        work = graded(session, trainee, json.dumps(handed_in).encode())
    with serve(app) as base_url:
        yield base_url, trainee, work


def test_recruiter_opens_the_work_behind_a_figure(
    evidence_server: tuple[str, int, int], browser_page: Page
) -> None:
    base, trainee, work = evidence_server
    page = browser_page
    sign_in(page, base, RECRUITER)
    page.goto(f"{base}/recruiter/candidates/{trainee}")
    # From the skill's evidence count to its rows, then to the graded notebook of one of them.
    page.locator('a[href="#evidence-python-basics"]').first.click()
    link = page.locator(f'#evidence-python-basics + .table-scroll a[href$="/submissions/{work}"]')
    expect(link.first).to_be_visible()
    link.first.click()
    expect(page.locator("#graded-work")).to_be_visible()
    expect(page.get_by_text("# MINE").first).to_be_visible()
    expect(page.locator("#cell-scores")).to_contain_text("test_squares: 2 / 2")
    expect(page.get_by_text("HIDDEN-MARKER")).to_have_count(0)
    page.get_by_role("link", name="Readiness report").click()
    expect(page.locator(".role-report").first).to_be_visible()
