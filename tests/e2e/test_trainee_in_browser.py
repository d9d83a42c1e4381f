"""A trainee in real Chromium: sign in, read a lesson, answer, submit, see the score."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from lms.services.notebooks import fill_answers
from tests.e2e.conftest import fill_answer, sign_in

pytestmark = pytest.mark.e2e

SQUARES = "def squares(n):\n    return [i * i for i in range(n)]\n"
TOTAL = "def total(path):\n    return sum(int(x) for x in open(path).read().split())\n"
GRADING_TIMEOUT_MS = 120_000  # a cold sandbox on a busy CI machine


def test_answer_in_the_browser_and_see_the_score(live_server: str, browser_page: Page) -> None:
    page = browser_page
    sign_in(page, live_server)
    page.get_by_role("link", name="Introduction").click()
    page.get_by_role("link", name="Hello lesson").click()
    expect(page.get_by_role("heading", name="Hello lesson")).to_be_visible()
    expect(page.locator("pre.highlight").first).to_be_visible()
    page.get_by_role("link", name="Squares").click()
    fill_answer(page, "squares", SQUARES)
    fill_answer(page, "total", TOTAL)
    exercise_url = page.url
    page.locator("#browser-form").get_by_role("button", name="Submit for grading").click()
    expect(page.locator("#result .result-score")).to_have_text(
        "Score: 3 / 3", timeout=GRADING_TIMEOUT_MS
    )
    expect(page.locator("#result tr[data-grade-id=test_squares] td").nth(1)).to_have_text("2 / 2")
    expect(page.locator("#result iframe.feedback-frame")).to_have_attribute("sandbox", "")
    expect(page.locator("#attempts tbody tr")).to_have_count(1)  # history updated in place
    assert page.url == exercise_url  # no reload: the script followed the grading
    page.reload()
    expect(page.locator("#attempts tbody tr")).to_have_count(1)
    expect(page.locator("#attempts tbody tr td").nth(4)).to_have_text("3 / 3")
    expect(page.locator("#answer-squares")).to_have_value(SQUARES)  # answers kept for editing


def test_a_flagged_attempt_shows_a_plain_notice_not_the_flag(
    live_server: str, browser_page: Page
) -> None:
    page = browser_page
    sign_in(page, live_server)
    page.goto(f"{live_server}/exercises/squares")
    # Inspects its caller only under the hidden test (squares(0)): flagged for staff.
    fill_answer(
        page,
        "squares",
        "import sys\ndef squares(n):\n    if n == 0:\n        sys._getframe(1)\n"
        "    return [i * i for i in range(n)]\n",
    )
    fill_answer(page, "total", TOTAL)
    statuses = []
    page.on("response", lambda r: statuses.append(r) if r.url.endswith(".json") else None)
    page.locator("#browser-form").get_by_role("button", name="Submit for grading").click()
    expect(page.locator("#result .result-score")).to_have_text(
        "Score: 1 / 3", timeout=GRADING_TIMEOUT_MS
    )
    expect(page.locator("#result .notice-review")).to_have_text(
        "This attempt waits for an instructor's review before it counts toward your skills."
    )
    assert "introspection" not in page.content()
    assert all("flags" not in r.json() for r in statuses)


def test_upload_a_notebook_and_see_the_score(
    live_server: str, browser_page: Page, tmp_path: Path
) -> None:
    page = browser_page
    sign_in(page, live_server)
    page.goto(f"{live_server}/exercises/squares")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the notebook").click()
    release = json.loads(Path(download_info.value.path()).read_text())
    answered = tmp_path / "squares.ipynb"
    answered.write_bytes(
        fill_answers(release, {"squares": SQUARES, "total": "def total(p):\n    return 0\n"})
    )
    page.locator("input[name=notebook]").set_input_files(str(answered))
    page.get_by_role("button", name="Upload and submit").click()
    expect(page.locator("#result .result-score")).to_have_text(
        "Score: 2 / 3", timeout=GRADING_TIMEOUT_MS
    )
    expect(page.locator("#result tr[data-grade-id=test_total] td").nth(1)).to_have_text("0 / 1")
