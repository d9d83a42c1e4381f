"""`lms readiness --json`, `import-results`, `create-token` and `seed` on a real database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from lms.cli import main
from lms.models.talent import ImportedResult
from tests.talent.conftest import results_csv, strong_history


@pytest.fixture
def cli(app, monkeypatch):
    """Run `lms ...` against the test app's database."""
    monkeypatch.setenv("LMS_DATABASE_URL", app.config["DATABASE_URL"])
    monkeypatch.setenv("LMS_SECRET_KEY", "cli-test")
    return lambda *args: CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_readiness_json_shape_and_order(cli, world, users) -> None:
    result = cli("readiness", "--role", "junior-dev", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["email"] for r in rows] == [users.trainee, users.other_trainee]
    assert rows[0]["readiness"] >= rows[1]["readiness"]
    assert rows[0]["status"] == "ready"
    for row in rows:
        assert {"email", "readiness", "low", "high", "status", "skills"} <= set(row)
        assert row["flags"] == {"integrity": [], "copy": [], "stale": False}
        assert row["low"] <= row["readiness"] <= row["high"]
        assert {s["skill"] for s in row["skills"]} == {"python-basics", "testing"}
        for skill in row["skills"]:
            assert {"skill", "mastery", "low", "high", "evidence"} <= set(skill)
            assert isinstance(skill["evidence"], list)
    evidence = rows[0]["skills"][0]["evidence"]
    assert evidence and {"exercise", "attempt", "at", "score"} <= set(evidence[0])
    assert evidence[0]["exercise"] == "squares"


def test_readiness_unknown_role_is_a_usage_error(cli, world) -> None:
    result = CliRunner().invoke(main, ["readiness", "--role", "astronaut", "--json"])
    assert result.exit_code == 2
    assert "Unknown role 'astronaut'" in result.output and "junior-dev" in result.output


def test_import_results_good_file(cli, tmp_path: Path, users, content, session) -> None:
    path = tmp_path / "good.csv"
    path.write_bytes(results_csv(strong_history(users.trainee, days=3)))
    result = cli("import-results", str(path))
    assert result.exit_code == 0, result.output
    assert "6 row(s): 6 imported, 0 already there" in result.output
    again = cli("import-results", str(path))
    assert "6 row(s): 0 imported, 6 already there" in again.output
    assert session.scalar(select(func.count()).select_from(ImportedResult)) == 6


def test_import_results_reports_unknown_rows_and_imports_nothing(
    tmp_path: Path, users, content, session, app, monkeypatch
) -> None:
    monkeypatch.setenv("LMS_DATABASE_URL", app.config["DATABASE_URL"])
    rows = strong_history(users.trainee, days=1)
    rows.append(
        ("nobody@example.org", "squares", "test_squares", 1, 2, "2026-01-02T10:00:00Z", "practice")
    )
    rows.append((users.trainee, "no-such-exercise", "x", 1, 2, "2026-01-02T10:00:00Z", "practice"))
    rows.append((users.trainee, "squares", "test_squares", 3, 2, "yesterday", "homework"))
    # Practice passed off as an assessment (which weighs more): the catalogue's kind wins.
    rows.append(
        (users.trainee, "squares", "test_squares", 2, 2, "2026-01-03T10:00:00Z", "assessment")
    )
    path = tmp_path / "bad.csv"
    path.write_bytes(results_csv(rows))
    result = CliRunner().invoke(main, ["import-results", str(path)])
    assert result.exit_code == 1
    assert "nothing imported" in result.output
    assert "row 8: unknown e-mail 'nobody@example.org'" in result.output
    assert "row 9: unknown exercise 'no-such-exercise'" in result.output
    assert "row 10: kind must be practice or assessment" in result.output
    assert "row 10: score must be a number from 0 to max_score" in result.output
    assert "row 10: submitted_at must be an ISO 8601 date-time" in result.output
    assert (
        "row 11: kind 'assessment' contradicts the catalogue: exercise 'squares' is 'practice'"
    ) in result.output
    assert session.scalar(select(func.count()).select_from(ImportedResult)) == 0


def test_import_results_refuses_a_file_without_the_columns(
    tmp_path: Path, content, app, monkeypatch, session
) -> None:
    monkeypatch.setenv("LMS_DATABASE_URL", app.config["DATABASE_URL"])
    path = tmp_path / "other.csv"
    path.write_text("name,points\nann,3\n")
    result = CliRunner().invoke(main, ["import-results", str(path)])
    assert result.exit_code == 1
    assert "lacks column(s) email, exercise, grade_id" in result.output
    path.write_bytes(b"\xff\xfe\x00garbage")
    result = CliRunner().invoke(main, ["import-results", str(path)])
    assert result.exit_code == 1 and "not UTF-8" in result.output
    assert session.scalar(select(func.count()).select_from(ImportedResult)) == 0


def test_create_token_only_for_recruiters_and_admins(cli, users) -> None:
    token = cli("create-token", "--email", users.recruiter).output.strip()
    assert token.startswith("atl_") and len(token) > 40
    refused = CliRunner().invoke(main, ["create-token", "--email", users.trainee])
    assert refused.exit_code == 1 and "API tokens are for" in refused.output


def test_seed_builds_a_cohort_with_history(cli, content, session) -> None:
    result = cli("seed", "--trainees", "12", "--months", "2")
    assert result.exit_code == 0, result.output
    assert "Cohort seed-0: 12 trainees" in result.output
    again = CliRunner().invoke(main, ["seed", "--trainees", "3"])
    assert again.exit_code == 1 and "already exists" in again.output
    ranked = json.loads(cli("readiness", "--role", "junior-dev", "--json").output)
    assert len(ranked) == 12
    assert sum(bool(r["skills"][0]["evidence"]) for r in ranked) >= 9  # a few skip it
    scores = [r["readiness"] for r in ranked]
    assert scores == sorted(scores, reverse=True)


def test_snapshot_pipeline_stores_today(cli, world, session) -> None:
    from lms.services import talent

    talent.set_sharing(session, world.trainee_id, True)
    talent.set_sharing(session, world.other_id, True)
    result = cli("snapshot-pipeline")
    assert result.exit_code == 0 and "Stored 1 snapshot(s)" in result.output
    stored = talent.pipeline_history(session, "junior-dev")
    assert [(s.trainees, s.ready) for s in stored] == [(2, 1)]
