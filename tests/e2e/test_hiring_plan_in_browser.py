"""An admin in real Chromium edits the hiring plan and sees the forecast follow."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in
from tests.e2e.test_talent_journey import talent_world

pytestmark = pytest.mark.e2e
ADMIN = "admin@example.org"


@pytest.fixture
def plan_server(app_factory, password_hash: str, serve) -> Iterator[str]:
    """The talent world (a plan of 3 junior developers by 2027-06-30) and an admin."""
    from lms.extensions import db
    from lms.models import User, UserRole

    app = app_factory()
    with db.sessionmaker_for(app)() as session:
        talent_world(session, password_hash)
        session.add(User(email=ADMIN, role=UserRole.ADMIN, password_hash=password_hash))
        session.commit()
    with serve(app) as base_url:
        yield base_url


def test_admin_edits_the_plan_and_sees_the_forecast(plan_server: str, browser_page: Page) -> None:
    page = browser_page
    sign_in(page, plan_server, ADMIN)
    page.get_by_role("link", name="Hiring plan").click()
    expect(page.get_by_role("heading", name="Hiring plan")).to_be_visible()
    forecast = page.locator("#forecast")
    expect(forecast.locator('tr[data-role="total"] [data-field="target"]')).to_have_text("3")
    expect(page.locator('figure[data-role="junior-dev"] svg .series-plan')).to_have_count(1)

    # Change the headcount of the row loaded from roles.yml.
    row = page.locator("#plan tbody tr[data-role=junior-dev]").first
    row.get_by_label("Headcount").fill("5")
    row.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Row saved.")).to_be_visible()
    expect(forecast.locator('tr[data-role="junior-dev"] [data-field="target"]')).to_have_text("5")

    # A wrong headcount is refused, says why, and keeps what was typed; nothing changes.
    new = page.locator('#plan tr[data-row="new"]')
    new.get_by_label("Role").select_option("junior-dev")
    new.get_by_label("Headcount").fill("many")
    new.get_by_label("By").fill("2028-06-30")
    new.get_by_role("button", name="Add the row").click()
    expect(page.get_by_text("The headcount is a whole number (many is not).")).to_be_visible()
    expect(new.get_by_label("Headcount")).to_have_value("many")
    expect(page.locator("#plan-total")).to_have_text("5")

    # Corrected, the row is added and the forecast's target follows.
    new.get_by_label("Headcount").fill("2")
    new.get_by_role("button", name="Add the row").click()
    expect(page.get_by_text("Row added to the plan.")).to_be_visible()
    expect(page.locator("#plan-total")).to_have_text("7")
    expect(forecast.locator('tr[data-role="total"] [data-field="target"]')).to_have_text("7")
    # Nobody was hired yet: no date is made up.
    expect(forecast.locator('tr[data-role="total"] [data-field="when"]')).to_contain_text(
        "Not at current rates"
    )

    # Removing the first row leaves the new one.
    page.locator("#plan tbody tr[data-role=junior-dev]").first.get_by_role(
        "button", name="Remove"
    ).click()
    expect(page.get_by_text("Row removed from the plan.")).to_be_visible()
    expect(page.locator("#plan-total")).to_have_text("2")
