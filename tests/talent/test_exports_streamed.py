"""Exports sent a piece at a time give the same text as when built whole; a report's PDF is
drawn once per report version and drawn again when the trainee's evidence changes."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from click.testing import CliRunner
from flask import jsonify

from lms.cli import main
from lms.models import utcnow
from lms.services import candidates, role_readiness, talent, talent_exports
from lms.services.api_tokens import create_token
from lms.services.results_import import import_results
from tests.talent.conftest import results_csv


def _whole_csv(listing: candidates.CandidateList) -> str:
    """The candidate CSV as it was built before streaming: one string (the reference)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*talent_exports.CSV_COLUMNS, *(f"skill:{s}" for s in listing.skills)])
    for row in listing.rows:
        r = row.readiness
        masteries = {line.skill: line.mastery for line in r.skills}
        writer.writerow(
            [
                talent_exports.safe_cell(row.candidate.trainee.email),
                talent_exports.safe_cell(row.candidate.trainee.name),
                listing.role.id,
                f"{r.score:.4f}",
                f"{r.low:.4f}",
                f"{r.high:.4f}",
                r.status,
                row.mark.status.value if row.mark else "",
                *(f"{masteries[s]:.4f}" if s in masteries else "" for s in listing.skills),
            ]
        )
    return out.getvalue()


@pytest.fixture
def shared(session, world):
    """Both trainees share their report."""
    for tid in (world.trainee_id, world.other_id):
        talent.set_sharing(session, tid, True)
    session.commit()
    return world


def test_the_streamed_csv_is_the_whole_csv(client, auth, session, users, shared) -> None:
    listing = candidates.candidate_list(session, "junior-dev")
    assert len(listing.rows) == 2
    whole = _whole_csv(listing)
    session.rollback()
    auth.login(users.recruiter)
    response = client.get("/recruiter/roles/junior-dev/candidates.csv")
    assert response.status_code == 200 and response.is_streamed
    assert response.get_data(as_text=True) == whole


def test_the_streamed_api_list_is_what_jsonify_gave(app, client, session, users, shared) -> None:
    token, _ = create_token(session, users.recruiter, "tests")
    response = client.get(
        "/api/v1/roles/junior-dev/readiness", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "application/json"
    ranked = role_readiness.role_readiness(
        session, "junior-dev", user_ids=talent.shared_trainee_ids(session)
    )
    with app.test_request_context():
        whole = jsonify([{"id": e.trainee.id, **e.as_json()} for e in ranked]).get_data()
    assert len(ranked) == 2
    assert response.get_data() == whole


def test_the_cli_json_is_what_json_dump_gave(app, monkeypatch, world) -> None:
    monkeypatch.setenv("LMS_DATABASE_URL", app.config["DATABASE_URL"])
    monkeypatch.setenv("LMS_SECRET_KEY", "cli-test")
    result = CliRunner().invoke(main, ["readiness", "--role", "junior-dev", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len(rows) == 2
    assert result.output == json.dumps(rows, indent=1) + "\n"


def test_a_report_pdf_is_drawn_once_per_version(session, users, shared, monkeypatch) -> None:
    talent_exports.pdf_cache.clear()
    drawn = []
    draw = talent_exports.draw_report_pdf
    monkeypatch.setattr(
        talent_exports,
        "draw_report_pdf",
        lambda report, *a: drawn.append(1) or draw(report, *a),
    )
    report = candidates.candidate_report(session, shared.other_id)
    first = talent_exports.report_pdf(report)
    again = talent_exports.report_pdf(candidates.candidate_report(session, shared.other_id))
    assert again is first and len(drawn) == 1
    assert first.startswith(b"%PDF")
    # Another trainee's report is its own.
    talent_exports.report_pdf(candidates.candidate_report(session, shared.trainee_id))
    assert len(drawn) == 2
    # New evidence for the trainee: a new version, drawn again.
    at = (utcnow() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    import_results(
        session,
        results_csv([(users.other_trainee, "squares", "test_squares", 2, 2, at, "practice")]),
        "new.csv",
    )
    changed = talent_exports.report_pdf(candidates.candidate_report(session, shared.other_id))
    assert len(drawn) == 3 and changed != first
