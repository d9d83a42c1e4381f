"""Consent comes from the trainee only, and aggregates never single out those who did not share.

The findings reproduced here: an admin setting a cohort's default to "shared" turned a
never-shared trainee's report, PDF and API answer from 404 to 200; pipeline counts minus the
shared candidates' CSV gave the exact status of each non-sharing trainee; a revoked trainee
stayed counted."""

from __future__ import annotations

import csv
import io

from lms.services import talent
from lms.services.api_tokens import create_token


def test_a_cohort_default_never_shares_a_report(client, auth, users, world, session) -> None:
    token, _row = create_token(session, users.recruiter)
    auth.login(users.admin)
    auth.post("/admin/talent/cohorts", {"slug": "spring", "name": "Spring", "default_sharing": "y"})
    cohort_id = talent.list_cohorts(session)[0][0].id
    session.rollback()
    auth.post(f"/admin/talent/cohorts/{cohort_id}/members", {"emails": users.trainee})
    auth.post(f"/admin/talent/cohorts/{cohort_id}/default", {"default_sharing": "yes"})
    auth.logout()
    auth.login(users.recruiter)
    report = f"/recruiter/candidates/{world.trainee_id}"
    assert client.get(report).status_code == 404
    assert client.get(report + "/report.pdf").status_code == 404
    api = client.get(
        f"/api/v1/candidates/{world.trainee_id}", headers={"Authorization": f"Bearer {token}"}
    )
    assert api.status_code == 404
    auth.logout()
    # The trainee is asked, and only their yes shares.
    auth.login(users.trainee)
    page = client.get("/skills/").get_data(as_text=True)
    assert 'id="sharing-question"' in page and "Spring" in page
    auth.post("/skills/sharing", {"share": "yes"})
    assert 'id="sharing-question"' not in client.get("/skills/").get_data(as_text=True)
    auth.logout()
    auth.login(users.recruiter)
    assert client.get(report).status_code == 200


def _pipeline_row(client) -> dict[str, int]:
    from lms.extensions import db

    counts = next(p for p in talent.pipeline(db.session) if p.role_id == "junior-dev")
    return {
        "trainees": counts.trainees,
        "ready": counts.ready,
        "not_yet": counts.not_yet,
        "almost": counts.almost,
    }


def test_pipeline_counts_only_sharers(app, client, auth, users, world, session) -> None:
    talent.set_sharing(session, world.trainee_id, True)  # the strong one shares, the weak not
    with app.app_context():
        counts = _pipeline_row(client)
    auth.login(users.recruiter)
    rows = list(
        csv.DictReader(
            io.StringIO(
                client.get("/recruiter/roles/junior-dev/candidates.csv").get_data(as_text=True)
            )
        )
    )
    # Counts minus the CSV leave nobody: the non-sharer's status cannot be worked out.
    assert counts["trainees"] == len(rows) == 1
    assert counts["ready"] + counts["almost"] + counts["not_yet"] == 1
    talent.set_sharing(session, world.trainee_id, False)  # revoked: no longer counted
    with app.app_context():
        assert _pipeline_row(client)["trainees"] == 0
    assert "0" in client.get("/recruiter/").get_data(as_text=True)


def test_a_revoked_trainee_leaves_the_snapshots(session, world) -> None:
    from lms.models import utcnow

    talent.set_sharing(session, world.trainee_id, True)
    talent.set_sharing(session, world.other_id, True)
    talent.set_sharing(session, world.other_id, False)
    talent.record_snapshots(session, [utcnow().date()])
    snapshot = talent.pipeline_history(session, "junior-dev")[-1]
    assert snapshot.trainees == 1 and snapshot.ready == 1
