"""The answer editor and drafts in real Chromium, in English and French, on a laptop and a
phone: type with auto-indent, indent and leave with the keyboard, see "saved at", reload and find
the draft, be warned before leaving with unsaved edits; no CSP violation on the way."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import EDITOR_BUNDLE, require_built, screenshot, sign_in

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SAVED = {"en": "Draft saved at", "fr": "Brouillon enregistré à"}


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("locale", ["en", "fr"])
def test_type_in_the_editor_reload_and_find_the_draft(
    live_server: str, browser_page: Page, tmp_path: Path, locale: str, size: str
) -> None:
    require_built(EDITOR_BUNDLE)
    page = browser_page
    page.set_viewport_size(DESKTOP if size == "desktop" else PHONE)
    violations: list[str] = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    sign_in(page, live_server, locale=locale)
    page.goto(f"{live_server}/exercises/squares")
    editor = page.locator(".cell-answer:has(#answer-squares) .cm-editor")
    expect(editor).to_be_visible()
    expect(page.locator("#answer-squares")).to_be_hidden()  # the textarea stays in the form
    expect(editor.locator(".cm-lineNumbers")).to_be_visible()
    content = editor.locator(".cm-content")
    content.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.press("Delete")
    # Auto-indent after the colon, closing brackets typed over, highlighting of keywords.
    page.keyboard.type("def squares(n):")
    page.keyboard.press("Enter")
    page.keyboard.type("return [i * i for i in range(n)]")
    expected = "def squares(n):\n    return [i * i for i in range(n)]"
    expect(page.locator("#answer-squares")).to_have_value(expected)
    assert editor.locator(".cm-line").first.locator("span").count() >= 1  # highlighted tokens
    # Tab indents, Shift+Tab takes the indent away; both stay in the editor.
    page.keyboard.press("Enter")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    page.keyboard.type("# done")
    expect(page.locator("#answer-squares")).to_have_value(expected + "\n    # done")
    assert page.evaluate("document.activeElement.classList.contains('cm-content')")
    # Esc then Tab leaves the editor for the next control.
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    # (the next control is the cell's "Run up to here" button)
    assert page.evaluate("!document.activeElement.closest('.cm-editor')"), (
        "Esc then Tab did not leave the editor"
    )
    assert page.evaluate("document.activeElement.classList.contains('run-upto')")
    status = page.locator("#draft-status")
    expect(status).to_have_attribute("data-state", "saved")
    expect(status).to_contain_text(SAVED[locale])
    screenshot(page, tmp_path, f"exercise-{locale}-{size}")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]

    page.reload()
    expect(page.locator("#answer-squares")).to_have_value(expected + "\n    # done")
    expect(editor.locator(".cm-content")).to_contain_text("return [i * i for i in range(n)]")
    expect(status).to_contain_text(SAVED[locale])

    # An edit not yet saved: leaving asks first.
    editor.locator(".cm-content").click()
    page.keyboard.press("ControlOrMeta+End")
    page.keyboard.press("Enter")
    page.keyboard.type("x = 1")
    dialogs: list[str] = []

    def answer(dialog) -> None:
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", answer)
    page.close(run_before_unload=True)
    page.wait_for_timeout(500)
    assert dialogs == ["beforeunload"]
    assert violations == []


def test_without_the_editor_bundle_the_textarea_still_saves_drafts(
    live_server: str, browser_page: Page, tmp_path: Path
) -> None:
    page = browser_page
    page.route("**/editor.bundle.js", lambda route: route.abort())  # as if Node was missing
    page.set_viewport_size(PHONE)
    sign_in(page, live_server, locale="en")
    page.goto(f"{live_server}/exercises/squares")
    area = page.locator("#answer-squares")
    expect(area).to_be_visible()
    assert page.locator(".cm-editor").count() == 0
    area.fill("def squares(n):\n    return []\n")
    area.press("Tab")  # Tab in the plain textarea indents too
    expect(page.locator("#draft-status")).to_have_attribute("data-state", "saved")
    screenshot(page, tmp_path, "exercise-plain-textarea-phone")
    page.reload()
    expect(page.locator("#answer-squares")).to_have_value("def squares(n):\n    return []\n    ")


def test_signed_out_while_typing_the_edits_wait_and_are_saved_after_signing_in_again(
    live_server: str, browser_page: Page
) -> None:
    require_built(EDITOR_BUNDLE)
    page = browser_page
    sign_in(page, live_server, locale="en")
    page.goto(f"{live_server}/exercises/squares")
    content = page.locator(".cell-answer:has(#answer-squares) .cm-content")
    content.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.insert_text("before = 1")
    status = page.locator("#draft-status")
    expect(status).to_have_attribute("data-state", "saved")
    other_tab = page.context.new_page()
    other_tab.goto(f"{live_server}/account/password")
    other_tab.get_by_role("button", name="Sign out", exact=True).click()
    other_tab.wait_for_url("**/login**")
    content.click()
    page.keyboard.press("ControlOrMeta+End")
    page.keyboard.insert_text("\nafter = 2")
    expect(status).to_have_attribute("data-state", "error", timeout=15_000)
    expect(status).to_contain_text("signed out")
    sign_in(other_tab, live_server, locale="en")
    expect(status).to_have_attribute("data-state", "saved", timeout=30_000)  # the retry got in
    other_tab.goto(f"{live_server}/exercises/squares")
    expect(other_tab.locator("#answer-squares")).to_have_value("before = 1\nafter = 2")
