"""End-to-end fixtures: the real app served on a free local port with its grading workers, and
Debian's Chromium driven by Playwright."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def _closed_at_once(app):
    """The app's responses read whole and closed before werkzeug writes them: its development
    server skips `close()` when the browser drops the connection first (its clean-up reads the
    socket before closing the iterable), which leaves a static file open until the garbage
    collector warns, in whichever test is running then. Production serves with waitress."""

    def wsgi(environ, start_response):
        iterable = app(environ, start_response)
        try:
            return [b"".join(iterable)]
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()

    return wsgi


@contextlib.contextmanager
def _serving(app) -> Iterator[str]:
    from lms.extensions import db

    server = make_server("127.0.0.1", 0, _closed_at_once(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        db.engine_for(app).dispose()


@pytest.fixture
def serve() -> Callable[..., contextlib.AbstractContextManager[str]]:
    """`with serve(app) as base_url:` serves an app on a free local port in a thread."""
    return _serving


@pytest.fixture
def live_server(app_factory, fixture_content: Path, password_hash: str) -> Iterator[str]:
    """The app with the fixture content and a trainee, served with its worker pool; base URL."""
    from lms.extensions import db
    from lms.models import User, UserRole
    from lms.queue import get_queue
    from lms.services.content_import import import_content

    app = app_factory(GRADING_WORKERS=1)
    with db.sessionmaker_for(app)() as session:
        import_content(session, fixture_content)
        session.add(
            User(email="trainee@example.org", role=UserRole.TRAINEE, password_hash=password_hash)
        )
        session.commit()
    queue = get_queue(app)
    queue.start()
    try:
        with _serving(app) as base_url:
            yield base_url
    finally:
        queue.stop()


@pytest.fixture
def browser_page() -> Iterator[object]:
    """A fresh Chromium page (skipped without Chromium, except in CI where it must be there)."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: apt-get install chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(locale="en-GB")
        page = context.new_page()
        page.set_default_timeout(30_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


REPO = Path(__file__).resolve().parents[2]
EDITOR_BUNDLE = REPO / "lms" / "static" / "editor.bundle.js"
AXE = REPO / "frontend" / "node_modules" / "axe-core" / "axe.min.js"


def require_built(path: Path) -> None:
    """Skip without a built asset (`lms build-assets`), except in CI where it must be there."""
    if path.is_file():
        return
    reason = f"{path} is missing: run `lms build-assets` (needs Node.js and npm)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


TRAINEE = "trainee@example.org"


def sign_in(page, base: str, email: str = TRAINEE, locale: str = "en") -> None:
    """Sign in through the login form as `email` (the suite's password), and switch the page
    to French when `locale` is "fr"."""
    from playwright.sync_api import expect

    from tests.conftest import PASSWORD

    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)
    if locale == "fr":
        page.get_by_role("button", name="Français").click()
        expect(page.locator("html")).to_have_attribute("lang", "fr")


def screenshot(page, tmp_path: Path, name: str) -> Path:
    """A full-page screenshot to look at: in `LMS_E2E_SCREENSHOTS` when set, else in pytest's
    temporary folder."""
    folder = Path(os.environ.get("LMS_E2E_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def fill_answer(page, grade_id: str, text: str) -> None:
    """Replace an answer cell's text: in the code editor when it is there, else the textarea."""
    editor = page.locator(f".cell-answer:has(#answer-{grade_id}) .cm-content")
    area = page.locator(f"#answer-{grade_id}")
    # The editor script may still be mounting (it hides the textarea first): wait until one of
    # the two is there to type in, rather than racing it.
    page.wait_for_load_state("load")
    editor.or_(area.locator("visible=true")).first.wait_for(state="visible")
    if editor.count() == 0:
        area.fill(text)
        return
    editor.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.insert_text(text)  # as pasted: no auto-indent on top of the text's own
