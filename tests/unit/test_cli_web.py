"""The web commands: db upgrade, create-user, import, demo."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import select, text

from lms.cli import main
from lms.extensions import make_engine
from lms.models import Base, Course, User

TEST_DATABASE_URL = __import__("os").environ.get("LMS_TEST_DATABASE_URL")


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch) -> str:
    """An empty database (no tables) that the commands use through LMS_DATABASE_URL."""
    if TEST_DATABASE_URL:
        engine = make_engine(TEST_DATABASE_URL)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        url = TEST_DATABASE_URL
    else:
        url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    monkeypatch.setenv("LMS_DATABASE_URL", url)
    monkeypatch.setenv("LMS_SECRET_KEY", "cli-test")
    return url


def _run(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def _query(url: str, statement):
    from sqlalchemy.orm import Session

    engine = make_engine(url)
    with Session(engine) as session:
        rows = list(session.scalars(statement))
    engine.dispose()
    return rows


def test_db_upgrade_builds_the_models_schema(database_url: str) -> None:
    result = _run("db", "upgrade")
    assert result.exit_code == 0, result.output
    engine = make_engine(database_url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert diff == [], "models and migrations disagree: add a migration"
    assert _run("db", "upgrade").exit_code == 0  # a second run is a no-op


def test_create_user_generates_or_reads_the_password(database_url: str) -> None:
    _run("db", "upgrade")
    generated = _run("create-user", "--email", "a@example.org", "--role", "instructor", input="")
    assert generated.exit_code == 0 and "Password: " in generated.output
    given = _run(
        "create-user",
        "--email",
        "b@example.org",
        "--role",
        "trainee",
        input="a long enough password\n",
    )
    assert given.exit_code == 0 and "Password:" not in given.output
    duplicate = _run("create-user", "--email", "b@example.org", "--role", "trainee", input="")
    assert duplicate.exit_code == 1 and "already exists" in duplicate.output
    users = _query(database_url, select(User).order_by(User.email))
    assert [(u.email, u.role.value) for u in users] == [
        ("a@example.org", "instructor"),
        ("b@example.org", "trainee"),
    ]


def test_import_reports_and_fails_cleanly(
    database_url: str,
    tmp_path: Path,
    fixture_content: Path,
) -> None:
    _run("db", "upgrade")
    ok = _run("import", str(fixture_content))
    assert ok.exit_code == 0 and "Imported 1 course(s), 2 lesson(s), 1 exercise(s)" in ok.output
    broken = tmp_path / "broken"
    shutil.copytree(fixture_content, broken)
    (broken / "courses/intro/course.yml").write_text("slug: intro\ntitle: [\n")
    failed = _run("import", str(broken))
    assert failed.exit_code == 1
    assert "nothing was imported" in failed.output and "courses/intro/course.yml:" in failed.output
    assert [c.title for c in _query(database_url, select(Course))] == ["Introduction"]


def test_demo_prepares_everything(
    database_url: str,
    fixture_content: Path,
    monkeypatch,
) -> None:
    monkeypatch.chdir(fixture_content)  # `lms demo` imports the content of the current folder
    result = _run("demo", "--no-serve", "--trainees", "5")
    assert result.exit_code == 0, result.output
    for role in ("trainee", "instructor", "recruiter", "admin"):
        assert f"{role}@atlas.demo" in result.output
    assert "Synthetic cohort seed-0: 5 trainees" in result.output
    again = _run("demo", "--no-serve", "--trainees", "5")  # resets passwords, creates nothing
    assert again.exit_code == 0
    assert "Synthetic cohort kept" in again.output
    assert len(_query(database_url, select(User))) == 4 + 5
    assert [c.slug for c in _query(database_url, select(Course))] == ["intro"]


def test_import_finds_the_content_from_the_setting_or_says_where_to_put_it(
    database_url: str, tmp_path: Path, fixture_content: Path, monkeypatch
) -> None:
    import lms

    _run("db", "upgrade")
    nowhere = tmp_path / "nowhere"
    nowhere.mkdir()
    monkeypatch.chdir(nowhere)
    # As in an installed wheel: the folder above the package holds no courses/ either.
    monkeypatch.setattr(lms, "REPO_ROOT", nowhere)
    missing = _run("import")
    assert missing.exit_code == 1
    assert "No content found" in missing.output and "LMS_CONTENT_ROOT" in missing.output
    demo = _run("demo", "--no-serve", "--trainees", "0")
    assert demo.exit_code == 1 and "No content found" in demo.output
    assert _query(database_url, select(User)) == []  # refused before creating any account

    monkeypatch.setenv("LMS_CONTENT_ROOT", str(nowhere))
    wrong = _run("import")
    assert wrong.exit_code == 1 and f"LMS_CONTENT_ROOT={nowhere} has no courses/" in wrong.output

    monkeypatch.setenv("LMS_CONTENT_ROOT", str(fixture_content))
    ok = _run("import")
    assert ok.exit_code == 0 and "Imported 1 course(s)" in ok.output, ok.output
