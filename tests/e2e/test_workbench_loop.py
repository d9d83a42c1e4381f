"""The trainee's whole loop in real Chromium, in one flow, in English and French, on a laptop and
a phone: type an answer in the code editor, run the cells and see an output inline, check a wrong
answer and read why it failed, reload and find the draft, fix it, submit, and see the exercise
marked done on the course page. Every assertion is on what the trainee sees."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import EDITOR_BUNDLE, fill_answer, require_built, screenshot, sign_in

pytestmark = pytest.mark.e2e

SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
GRADING_TIMEOUT_MS = 120_000  # a cold sandbox on a busy machine
TOTAL = "def total(path):\n    return sum(int(x) for x in open(path).read().split())\n"
WRONG = "def squares(n):\n    return [n]\nprint(squares(2))"
RIGHT = "def squares(n):\n    return [i * i for i in range(n)]\nprint(squares(4))"

WORDS = {
    "en": {
        "sign_out": "Sign out",
        "run_all": "Run all cells",
        "check": "Check my work",
        "submit": "Submit for grading",
        "visible_only": "Visible checks only: 1 / 3",
        "failing_line": "Failing line 1 of the test",
        "values": ["Error", "Your value", "Expected"],
        "saved": "Draft saved at",
        "score": "Score: 3 / 3",
        "done": "done",
        "progress": "1 of 1 exercises done",
        "row_score": "3 / 3 (100%)",
    },
    "fr": {
        "sign_out": "Se déconnecter",
        "run_all": "Exécuter toutes les cellules",
        "check": "Vérifier mon travail",
        "submit": "Soumettre pour notation",
        "visible_only": "Vérifications visibles seulement : 1 / 3",
        "failing_line": "Ligne 1 du test en échec",
        "values": ["Erreur", "Votre valeur", "Attendu"],
        "saved": "Brouillon enregistré à",
        "score": "Note : 3 / 3",
        "done": "terminé",
        "progress": "1 exercice(s) terminé(s) sur 1",
        "row_score": "3 / 3 (100 %)",
    },
}


def _look(page: Page, tmp_path: Path, name: str) -> None:
    """A screenshot of the state, and nothing wider than the screen (no sideways scrolling)."""
    screenshot(page, tmp_path, name)
    width = page.viewport_size["width"]
    scrolled = page.evaluate("document.documentElement.scrollWidth")
    assert scrolled <= width, f"{name} is {scrolled} px wide on a {width} px screen"


def _type_answer(page: Page, text: str) -> None:
    """Type the `squares` answer key by key, as a trainee would (the editor indents after
    the colon, so the indent of each continued line is left to it)."""
    content = page.locator(".cell-answer:has(#answer-squares) .cm-content")
    content.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.press("Delete")
    first, *rest = text.split("\n")
    page.keyboard.type(first)
    for line in rest:
        page.keyboard.press("Enter")
        if not line.startswith(" "):
            page.keyboard.press("Shift+Tab")  # back to the left margin
        page.keyboard.type(line.lstrip())


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("locale", ["en", "fr"])
def test_the_whole_loop(
    live_server: str, browser_page: Page, tmp_path: Path, locale: str, size: str
) -> None:
    require_built(EDITOR_BUNDLE)
    words = WORDS[locale]
    page = browser_page
    page.set_viewport_size(SIZES[size])
    shot = f"loop-{locale}-{size}"
    sign_in(page, live_server, locale=locale)

    # 1. Type the answer in the code editor.
    page.goto(f"{live_server}/exercises/squares")
    expect(page.locator(".cell-answer:has(#answer-squares) .cm-editor")).to_be_visible()
    _type_answer(page, WRONG)
    expect(page.locator(".cell-answer:has(#answer-squares) .cm-content")).to_have_text(
        WRONG.replace("\n", "")
    )
    fill_answer(page, "total", TOTAL)
    attempts = page.locator("#attempts")
    expect(attempts.locator("table")).to_be_hidden()  # no attempt yet: no empty table
    expect(page.locator('.cell-outputs[data-cell="1"]')).to_be_hidden()  # nothing run yet

    # 2. Run the cells: the print shows under the answer, the failing visible test under it.
    page.get_by_role("button", name=words["run_all"]).click()
    printed = page.locator('.cell-outputs[data-cell="1"] pre')
    expect(printed).to_have_text("[2]", timeout=60_000)
    expect(printed).to_be_visible()
    failed = page.locator('.cell-outputs[data-cell="2"] pre.output-error')
    expect(failed).to_be_visible()
    expect(failed).to_contain_text("assert squares(3) == [0, 1, 4]")
    _look(page, tmp_path, f"{shot}-1-ran")

    # 3. Check the wrong answer and read why it failed: the line, the error, both values.
    page.locator("#browser-form").get_by_role("button", name=words["check"]).click()
    score = page.locator("#result .result-score")
    expect(score).to_have_text(words["visible_only"], timeout=GRADING_TIMEOUT_MS)
    detail = page.locator("#result tr[data-detail-for=test_squares]")
    expect(detail).to_be_visible()
    expect(detail).to_contain_text(words["failing_line"])
    expect(detail.locator("pre.check-code")).to_have_text("assert squares(3) == [0, 1, 4]")
    values = detail.locator("dl.check-values")
    expect(values.locator("dt")).to_have_text(words["values"])
    expect(values.locator("dd")).to_have_text(["AssertionError", "[3]", "[0, 1, 4]"])
    expect(page.locator("#result")).not_to_contain_text("HIDDEN-MARKER")
    detail.scroll_into_view_if_needed()
    _look(page, tmp_path, f"{shot}-2-why")

    # 4. Start the fix, reload: the draft (not the checked answer) is back, with when it was
    # saved.
    _type_answer(page, RIGHT)
    status = page.locator("#draft-status")
    expect(status).to_contain_text(words["saved"])
    page.reload()
    editor = page.locator(".cell-answer:has(#answer-squares) .cm-content")
    expect(editor).to_have_text(RIGHT.replace("\n", ""))
    expect(status).to_contain_text(words["saved"])
    _look(page, tmp_path, f"{shot}-3-draft")

    # 5. Submit the fixed answer for grading: full marks.
    page.locator("#browser-form").get_by_role("button", name=words["submit"]).click()
    expect(page.locator("#result .result-score")).to_have_text(
        words["score"], timeout=GRADING_TIMEOUT_MS
    )
    expect(attempts.locator("table tbody tr")).to_have_count(1)  # the check is not an attempt
    expect(attempts.locator("table")).to_be_visible()
    _look(page, tmp_path, f"{shot}-4-graded")

    # 6. The course page says the exercise is done.
    page.locator(".crumbs a").first.click()
    page.get_by_role("link", name="Introduction (FR)" if locale == "fr" else "Introduction").click()
    row = page.locator("li", has=page.locator('[data-done="squares"]'))
    expect(row.locator(".tag-done")).to_have_text(words["done"])
    expect(row.locator(".tag-done")).to_be_visible()
    expect(row.locator(".score")).to_have_text(words["row_score"])
    expect(page.locator(".course-progress")).to_contain_text(words["progress"])
    _look(page, tmp_path, f"{shot}-5-done")
