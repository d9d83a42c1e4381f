"""In real Chromium: a failed test says why in the result panel, check my work says what it
cannot see, and a hidden check's failure is said without its text (English and French)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import fill_answer, sign_in

pytestmark = pytest.mark.e2e

TOTAL = "def total(path):\n    return sum(int(x) for x in open(path).read().split())\n"
WRONG = "def squares(n):\n    return [1]\n"
# Passes the visible test (squares(3)) but not the hidden one (squares(0) == []).
TRICKY = "def squares(n):\n    return [0, 1, 4] if n else [9]\n"
GRADING_TIMEOUT_MS = 120_000  # a cold sandbox on a busy CI machine


def _answer(page: Page, base: str, squares: str, button: str) -> None:
    page.goto(f"{base}/exercises/squares")
    fill_answer(page, "squares", squares)
    fill_answer(page, "total", TOTAL)
    page.locator("#browser-form").get_by_role("button", name=button).click()


def test_a_failed_test_says_its_line_and_both_values(live_server: str, browser_page: Page) -> None:
    page = browser_page
    sign_in(page, live_server)
    _answer(page, live_server, WRONG, "Submit for grading")
    detail = page.locator("#result tr[data-detail-for=test_squares]")
    expect(detail).to_contain_text("Failing line 1 of the test", timeout=GRADING_TIMEOUT_MS)
    expect(detail.locator("pre.check-code")).to_have_text("assert squares(3) == [0, 1, 4]")
    values = detail.locator("dl.check-values")
    expect(values).to_contain_text("AssertionError")
    expect(values.locator("dt")).to_have_text(["Error", "Your value", "Expected"])
    expect(values.locator("dd")).to_have_text(["AssertionError", "[1]", "[0, 1, 4]"])
    expect(page.locator("#result")).not_to_contain_text("HIDDEN-MARKER")


def test_check_then_submit_says_what_hidden_checks_did(
    live_server: str, browser_page: Page
) -> None:
    page = browser_page
    sign_in(page, live_server)
    _answer(page, live_server, TRICKY, "Check my work")
    expect(page.locator("#result .result-score")).to_have_text(
        "Visible checks only: 3 / 3", timeout=GRADING_TIMEOUT_MS
    )
    expect(page.locator("#result .hidden-points")).to_contain_text("2 of the points")
    expect(page.locator("#result tr[data-detail-for=test_squares]")).to_contain_text(
        "This cell also has hidden checks"
    )
    _answer(page, live_server, TRICKY, "Submit for grading")
    expect(page.locator("#result .result-score")).to_have_text(
        "Score: 1 / 3", timeout=GRADING_TIMEOUT_MS
    )
    expect(page.locator("#result .hidden-failed")).to_contain_text(
        "Your visible checks pass, but a hidden check of this cell failed"
    )
    expect(page.locator("#result")).not_to_contain_text("squares(0)")


def test_the_panel_in_french(live_server: str, browser_page: Page) -> None:
    page = browser_page
    sign_in(page, live_server)
    page.goto(f"{live_server}/learn")
    page.get_by_role("button", name="Français").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.goto(f"{live_server}/exercises/squares")
    fill_answer(page, "squares", WRONG)
    fill_answer(page, "total", TOTAL)
    page.locator("#browser-form").get_by_role("button", name="Vérifier mon travail").click()
    expect(page.locator("#result .result-score")).to_contain_text(
        "Vérifications visibles seulement", timeout=GRADING_TIMEOUT_MS
    )
    detail = page.locator("#result tr[data-detail-for=test_squares]")
    expect(detail).to_contain_text("Ligne 1 du test en échec")
    expect(detail.locator("dt")).to_have_text(["Erreur", "Votre valeur", "Attendu"])


def test_run_a_cell_and_see_its_output_inline(live_server: str, browser_page: Page) -> None:
    page = browser_page
    sign_in(page, live_server)
    page.goto(f"{live_server}/exercises/squares")
    fill_answer(page, "squares", "def squares(n):\n    return [1]\nprint(squares(2))\n")
    fill_answer(page, "total", TOTAL)
    page.get_by_role("button", name="Run all cells").click()
    expect(page.locator("#browser-form")).to_have_attribute("data-ran", "1", timeout=60_000)
    expect(page.locator('.cell-outputs[data-cell="1"] pre')).to_have_text("[1]")
    failed = page.locator('.cell-outputs[data-cell="2"] pre.output-error')
    expect(failed).to_contain_text("assert squares(3) == [0, 1, 4]")
    expect(page.locator('.cell-outputs[data-cell="4"] pre')).to_have_count(0)  # test_total passes
    expect(page.locator("#browser-form")).not_to_contain_text("HIDDEN-MARKER")
    # Run up to the first answer: later cells keep what they showed, nothing after it runs.
    fill_answer(page, "squares", "def squares(n):\n    return [n]\nprint(squares(5))\n")
    page.locator('button.run-upto[data-upto="1"]').click()
    expect(page.locator("#browser-form")).to_have_attribute("data-ran", "2", timeout=60_000)
    expect(page.locator('.cell-outputs[data-cell="1"] pre')).to_have_text("[5]")
    timings = []
    for n in range(3, 6):  # warm: the time a trainee waits, click to outputs
        page.locator('button.run-upto[data-upto="1"]').click()
        expect(page.locator("#browser-form")).to_have_attribute("data-ran", str(n))
        timings.append(int(page.locator(".run-status").get_attribute("data-ms")))
    print(f"run up to a cell, click to outputs (ms): {timings}")
