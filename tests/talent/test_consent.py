"""Consent: timestamped, revocable, history kept; cohort defaults; the trainee's own pages."""

from __future__ import annotations

import json

from sqlalchemy import select

from lms.errors import Invalid
from lms.models.talent import ReportShare
from lms.services import talent


def test_sharing_history_is_kept(session, world) -> None:
    assert not talent.is_shared(session, world.trainee_id)
    talent.set_sharing(session, world.trainee_id, True)
    assert talent.is_shared(session, world.trainee_id)
    talent.set_sharing(session, world.trainee_id, False)
    assert not talent.is_shared(session, world.trainee_id)
    rows = session.scalars(select(ReportShare).order_by(ReportShare.id)).all()
    assert [r.shared for r in rows] == [True, False]
    assert rows[0].at <= rows[1].at and rows[0].at.tzinfo is not None
    history = talent.consent_history(session, world.trainee_id)
    assert [(e.shared, e.source) for e in history] == [(True, "trainee"), (False, "trainee")]


def test_a_cohort_asks_but_only_the_trainee_shares(session, world, users) -> None:
    cohort = talent.create_cohort(session, "autumn", "Autumn 2026", by_user_id=world.admin_id)
    talent.add_members(session, cohort.id, [users.trainee, users.other_trainee])
    talent.set_cohort_default(session, cohort.id, True, world.admin_id)
    assert talent.shared_trainee_ids(session) == set()  # never a silent share
    assert talent.sharing_question(session, world.trainee_id) == cohort
    talent.set_sharing(session, world.trainee_id, True)  # the trainee answers yes
    talent.set_sharing(session, world.other_id, False)  # ... or no
    assert talent.shared_trainee_ids(session) == {world.trainee_id}
    assert talent.sharing_question(session, world.trainee_id) is None  # answered: not asked again
    talent.set_cohort_default(session, cohort.id, False, world.admin_id)
    assert talent.shared_trainee_ids(session) == {world.trainee_id}  # the cohort cannot revoke
    talent.set_sharing(session, world.trainee_id, False)  # revocable by the trainee
    assert talent.shared_trainee_ids(session) == set()
    sources = [(e.source, e.shared) for e in talent.consent_history(session, world.trainee_id)]
    assert sources == [
        ("cohort", False),
        ("cohort", True),
        ("trainee", True),
        ("cohort", False),
        ("trainee", False),
    ]


def test_adding_unknown_members_changes_nothing(session, world, users) -> None:
    cohort = talent.create_cohort(session, "winter", "Winter")
    try:
        talent.add_members(
            session, cohort.id, [users.trainee, "ghost@example.org", users.recruiter]
        )
    except Invalid as error:
        assert "ghost@example.org" in str(error) and users.recruiter in str(error)
    else:
        raise AssertionError("unknown members were accepted")
    assert talent.list_cohorts(session)[0][1] == 0


def test_trainee_shares_and_revokes_from_my_skills(client, auth, users, world, session) -> None:
    auth.login(users.trainee)
    page = client.get("/skills/").get_data(as_text=True)
    assert "Your report is private" in page
    response = auth.post("/skills/sharing", {"share": "yes"})
    assert response.status_code == 303
    assert "Recruiters can see your readiness report" in client.get("/skills/").get_data(
        as_text=True
    )
    assert talent.is_shared(session, world.trainee_id)
    session.rollback()
    auth.post("/skills/sharing", {"share": "no"})
    assert not talent.is_shared(session, world.trainee_id)


def test_sharing_needs_a_csrf_token(client, auth, users, world, session) -> None:
    auth.login(users.trainee)
    assert client.post("/skills/sharing", data={"share": "yes"}).status_code == 400
    assert not talent.is_shared(session, world.trainee_id)


def test_my_skills_page_shows_chart_gaps_and_next_modules(client, auth, users, world) -> None:
    auth.login(users.other_trainee)
    html = client.get("/skills/").get_data(as_text=True)
    assert "<svg" in html and 'data-skill="python-basics"' in html
    assert "What is missing" in html and "Python fundamentals" in html
    assert "Next modules" in html and "Introduction › Basics" in html
    assert "/exercises/squares" in html
    auth.logout()
    auth.login(users.trainee)
    html = client.get("/skills/").get_data(as_text=True)
    # Ready: the critical skill is confirmed; the non-critical one, seen in a few cells, is
    # listed as wanting more evidence rather than passed off as shown.
    assert 'class="status status-ready"' in html
    missing = html.split("What is missing")[-1]
    assert "Python fundamentals" not in missing and "more evidence needed" in missing


def test_export_all_my_data(client, auth, users, world, session) -> None:
    talent.set_sharing(session, world.trainee_id, True)
    auth.login(users.trainee)
    response = client.get("/skills/my-data.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["email"] == users.trainee
    assert len(data["imported_results"]) == 6
    assert data["consent"][0]["shared"] is True and data["shared_now"] is True
    assert data["readiness"][0]["role"] == "junior-dev"
    assert users.other_trainee not in response.get_data(as_text=True)


def test_export_includes_my_notebooks_but_never_the_graded_copy(
    client, auth, users, world, session, fixture_content
) -> None:
    from lms.models import Submission, SubmissionPurpose
    from lms.services import submissions
    from lms.services.blobs import put_blob

    source = (fixture_content / "exercises/squares/squares.ipynb").read_bytes()
    queued = submissions.submit(
        session,
        user_id=world.trainee_id,
        exercise_slug="squares",
        notebook=source,
        name="mine.ipynb",
        origin="upload",
        purpose=SubmissionPurpose.GRADE,
        token="t1",
    )
    session.get(Submission, queued.submission_id).graded_notebook_sha256 = put_blob(
        session, b'{"hidden": "HIDDEN-TESTS-HERE"}'
    )
    session.commit()
    auth.login(users.trainee)
    data = json.loads(client.get("/skills/my-data.json").get_data(as_text=True))
    assert data["submissions"][0]["notebook_name"] == "mine.ipynb"
    assert json.loads(data["submissions"][0]["notebook"]) == json.loads(source)
    assert "HIDDEN-TESTS-HERE" not in json.dumps(data)
