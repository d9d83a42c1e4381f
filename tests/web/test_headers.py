"""Response headers that keep data out of caches and browsers on HTTPS, and files kept private."""

from __future__ import annotations

import stat
from pathlib import Path

from lms.services import talent


def test_pages_with_data_are_not_stored(client, auth, users, content) -> None:
    auth.login(users.admin)
    for path in (
        "/admin/",
        "/recruiter/",
        "/recruiter/roles/junior-dev/candidates.csv",
        "/learn",
        "/login",
    ):
        assert client.get(path).headers["Cache-Control"] == "no-store", path
    with client.get("/static/atlas.css") as asset:
        assert "no-store" not in asset.headers.get("Cache-Control", "")


def test_a_report_and_its_pdf_are_not_stored(client, auth, users, session, content) -> None:
    from sqlalchemy import select

    from lms.models import User

    trainee_id = session.scalar(select(User.id).where(User.email == users.trainee))
    talent.set_sharing(session, trainee_id, True)
    auth.login(users.recruiter)
    for path in (
        f"/recruiter/candidates/{trainee_id}",
        f"/recruiter/candidates/{trainee_id}/report.pdf",
    ):
        response = client.get(path)
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"


def test_hsts_only_with_secure_cookies(app_factory) -> None:
    plain = app_factory()
    assert "Strict-Transport-Security" not in plain.test_client().get("/login").headers
    secure = app_factory(SESSION_COOKIE_SECURE=True)
    hsts = secure.test_client().get("/login").headers["Strict-Transport-Security"]
    assert "max-age=31536000" in hsts


def test_405_says_what_is_allowed(client) -> None:
    response = client.get("/logout")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert "GET" in client.put("/login").headers["Allow"]


def test_the_sqlite_database_and_its_side_files_are_private(tmp_path: Path, monkeypatch) -> None:
    from lms import create_app
    from lms.extensions import db
    from lms.migrations import upgrade

    instance = tmp_path / "inst"
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(instance))
    monkeypatch.delenv("LMS_DATABASE_URL", raising=False)
    app = create_app({"SECRET_KEY": "k", "TESTING": True})
    upgrade(app.config["DATABASE_URL"])
    with app.app_context():
        db.session.execute(__import__("sqlalchemy").text("SELECT 1"))
        files = sorted(instance.glob("atlas.sqlite*"))
        assert {f.name for f in files} >= {"atlas.sqlite", "atlas.sqlite-wal", "atlas.sqlite-shm"}
        for path in files:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(instance.stat().st_mode) == 0o700
    db.engine_for(app).dispose()


def test_the_code_editor_script_and_its_styles_are_allowed(client, auth, users, content) -> None:
    import re

    auth.login(users.trainee)
    page = client.get("/exercises/squares")
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp  # our scripts, no inline
    html = page.get_data(as_text=True)
    if 'src="/static/editor.bundle.js"' not in html:  # not built: plain textareas, no nonce
        assert "nonce-" not in csp
        return
    nonce = re.search(r"style-src 'self' 'nonce-([^']+)'", csp).group(1)
    assert f'src="/static/editor.bundle.js" nonce="{nonce}"' in html
    again = client.get("/exercises/squares").headers["Content-Security-Policy"]
    assert nonce not in again  # a nonce per response
    assert "nonce-" not in client.get("/learn").headers["Content-Security-Policy"]
