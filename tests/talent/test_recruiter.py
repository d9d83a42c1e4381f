"""Recruiter pages: pipeline against the plan, marks counted, filters, CSV and PDF exports."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

from sqlalchemy import select

from lms.models import Blob, Exercise, utcnow
from lms.services import talent
from tests.talent.test_evidence_integrity import graded, notebook


def _share_both(session, world) -> None:
    talent.set_sharing(session, world.trainee_id, True)
    talent.set_sharing(session, world.other_id, True)


def test_pipeline_counts_statuses_and_marks(client, auth, users, world, session) -> None:
    assert talent.pipeline(session)[0].trainees == 0  # nobody shares: nobody is counted
    _share_both(session, world)
    counts = talent.pipeline(session)[0]
    assert (counts.trainees, counts.ready, counts.not_yet + counts.almost) == (2, 1, 1)
    talent.set_sharing(session, world.other_id, False)  # revoked: no longer counted
    assert talent.pipeline(session)[0].trainees == 1
    talent.set_sharing(session, world.other_id, True)
    talent.mark_candidate(
        session, world.trainee_id, "junior-dev", "shortlisted", world.recruiter_id
    )
    talent.mark_candidate(session, world.trainee_id, "junior-dev", "hired", world.recruiter_id)
    counts = talent.pipeline(session)[0]
    # Hired people leave the pipeline's statuses: they are counted as hired, once.
    assert (counts.ready, counts.hired, counts.shortlisted, counts.wanted) == (0, 1, 0, 3)
    assert counts.trainees == 1 and counts.not_yet + counts.almost == 1
    session.rollback()  # SQLite: an open read transaction holds the write lock
    auth.login(users.recruiter)
    html = client.get("/recruiter/").get_data(as_text=True)
    assert '<td class="num" data-count="ready">0</td>' in html
    assert '<td class="num" data-count="hired">1</td>' in html
    talent.mark_candidate(session, world.trainee_id, "junior-dev", "cleared", world.recruiter_id)
    assert talent.pipeline(session)[0].hired == 0
    assert talent.pipeline(session)[0].ready == 1
    assert [m.status.value for m, _ in talent.mark_history(session, world.trainee_id)] == [
        "shortlisted",
        "hired",
        "cleared",
    ]


def test_marks_through_the_report_page(client, auth, users, world, session) -> None:
    _share_both(session, world)
    auth.login(users.recruiter)
    response = auth.post(
        f"/recruiter/candidates/{world.trainee_id}/marks",
        {"role": "junior-dev", "status": "interviewing"},
    )
    assert response.status_code == 303
    page = client.get(f"/recruiter/candidates/{world.trainee_id}").get_data(as_text=True)
    assert "junior-dev — interviewing (recruiter@example.org)" in page
    bad = auth.post(
        f"/recruiter/candidates/{world.trainee_id}/marks",
        {"role": "junior-dev", "status": "adored"},
    )
    assert bad.status_code == 303  # refused with a message, nothing stored
    assert len(talent.mark_history(session, world.trainee_id)) == 1
    session.rollback()


def test_pipeline_history_from_past_evidence(client, auth, users, world, session) -> None:
    from lms.models import User
    from lms.models.talent import ReportShare

    today = utcnow().date()
    talent.record_snapshots(session, [today - timedelta(days=30)])
    assert talent.pipeline_history(session, "junior-dev")[0].trainees == 0  # not joined yet

    _share_both(session, world)  # only sharers are counted, from the day they shared
    for user in session.scalars(select(User)):
        user.created_at = utcnow() - timedelta(days=60)
    for share in session.scalars(select(ReportShare)):
        share.at = utcnow() - timedelta(days=60)
    session.commit()
    stored = talent.record_snapshots(session, [today - timedelta(days=30), today])
    assert stored == 2
    history = talent.pipeline_history(session, "junior-dev")
    # A month ago no evidence existed yet (the history is from the last eleven days).
    assert history[0].trainees == 2 and history[0].not_enough_evidence == 2
    assert history[-1].ready == 1
    session.rollback()
    auth.login(users.recruiter)
    html = client.get("/recruiter/roles/junior-dev/pipeline").get_data(as_text=True)
    assert "<svg" in html and "<polyline" in html and str(today) in html


def test_candidate_filters_and_sort(client, auth, users, world, session) -> None:
    _share_both(session, world)
    auth.login(users.recruiter)
    base = "/recruiter/roles/junior-dev/candidates"
    html = client.get(base).get_data(as_text=True)
    assert html.index(users.trainee) < html.index(users.other_trainee)
    html = client.get(base + "?sort=email").get_data(as_text=True)
    assert html.index(users.other_trainee) < html.index(users.trainee)
    html = client.get(base + "?status=ready").get_data(as_text=True)
    assert users.trainee in html and users.other_trainee not in html
    html = client.get(base + "?skill=testing&min_skill=0.5").get_data(as_text=True)
    assert users.trainee in html and users.other_trainee not in html
    html = client.get(base + "?min_readiness=banana&status=nonsense").get_data(as_text=True)
    assert users.trainee in html and users.other_trainee in html


def test_csv_export(client, auth, users, world, session) -> None:
    _share_both(session, world)
    auth.login(users.recruiter)
    response = client.get("/recruiter/roles/junior-dev/candidates.csv?status=ready")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["email"] for r in rows] == [users.trainee]
    assert rows[0]["status"] == "ready" and float(rows[0]["skill:python-basics"]) > 0.6


def test_csv_neutralises_formulas(client, auth, users, world, session) -> None:
    from lms.models import User

    session.get(User, world.trainee_id).display_name = '=HYPERLINK("x")'
    session.commit()
    _share_both(session, world)
    auth.login(users.recruiter)
    text = client.get("/recruiter/roles/junior-dev/candidates.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in text


def test_report_shows_evidence_and_exports_pdf(client, auth, users, world, session) -> None:
    _share_both(session, world)
    auth.login(users.recruiter)
    html = client.get(f"/recruiter/candidates/{world.trainee_id}").get_data(as_text=True)
    assert "Squares" in html and "test_total" in html and "Assessment" in html
    assert 'href="#evidence-python-basics"' in html and "ready" in html
    assert "talent.css" in html  # print stylesheet
    pdf = client.get(f"/recruiter/candidates/{world.trainee_id}/report.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF") and len(pdf.data) > 1500


def test_admin_sets_cohort_question_through_the_page(client, auth, users, world, session) -> None:
    auth.login(users.admin)
    auth.post("/admin/talent/cohorts", {"slug": "spring", "name": "Spring"})
    cohort_id = talent.list_cohorts(session)[0][0].id
    session.rollback()
    auth.post(f"/admin/talent/cohorts/{cohort_id}/members", {"emails": users.trainee})
    auth.post(f"/admin/talent/cohorts/{cohort_id}/default", {"default_sharing": "yes"})
    assert talent.shared_trainee_ids(session) == set()  # asked, not shared
    assert talent.sharing_question(session, world.trainee_id).slug == "spring"
    session.rollback()
    response = auth.post("/admin/talent/tokens", {"email": users.recruiter, "name": "ats"})
    assert response.status_code == 200 and "atl_" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"


def test_every_evidence_row_of_our_grader_links_to_the_graded_notebook(
    client, auth, users, world, session
) -> None:
    release = session.scalar(
        select(Blob.data)
        .join(Exercise, Exercise.release_sha256 == Blob.sha256)
        .where(Exercise.slug == "squares")
    )
    handed_in = json.loads(release)
    for cell in handed_in["cells"]:
        if "NotImplementedError" in "".join(cell["source"]):
            cell["source"] = "def squares(n):\n    return [i * i for i in range(n)]  # MY-CODE\n"
    work = graded(session, world.trainee_id, json.dumps(handed_in).encode())
    other = graded(session, world.other_id, notebook("y = 2"))
    auth.login(users.recruiter)
    assert (
        client.get(f"/recruiter/candidates/{world.trainee_id}/submissions/{work}").status_code
        == 404
    )
    talent.set_sharing(session, world.trainee_id, True)
    report = client.get(f"/recruiter/candidates/{world.trainee_id}").get_data(as_text=True)
    link = f"/recruiter/candidates/{world.trainee_id}/submissions/{work}"
    assert f'href="{link}"' in report
    page = client.get(link).get_data(as_text=True)
    assert "MY-CODE" in page and "test_squares" in page and "2 / 2" in page
    assert "HIDDEN-MARKER" not in page and "HIDDEN TESTS" not in page
    # Another trainee's submission under this trainee's id is nobody's business.
    assert (
        client.get(f"/recruiter/candidates/{world.trainee_id}/submissions/{other}").status_code
        == 404
    )
    auth.logout()
    auth.login(users.trainee)
    assert client.get(link).status_code == 403
