"""Every talent route checks the role; recruiters see a report only while the trainee shares it."""

from __future__ import annotations

import pytest

from lms.services import talent
from lms.services.api_tokens import create_token
from tests.talent.test_evidence_integrity import graded, notebook

RECRUITERS = {"recruiter", "admin"}
# endpoint -> (roles allowed, URL values); every route of these blueprints must be listed.
ROUTES = {
    "recruiter.index": RECRUITERS,
    "recruiter.pipeline": RECRUITERS,
    "recruiter.candidate_list": RECRUITERS,
    "recruiter.candidate_csv": RECRUITERS,
    "recruiter.report": RECRUITERS,
    "recruiter.report_pdf": RECRUITERS,
    "recruiter.work": RECRUITERS,
    "recruiter.mark": RECRUITERS,
    "recruiter.forecast": RECRUITERS,
    "skills.index": {"trainee"},
    "skills.sharing": {"trainee"},
    "skills.export": {"trainee"},
    "talent_admin.index": {"admin"},
    "talent_admin.create_cohort": {"admin"},
    "talent_admin.cohort_default": {"admin"},
    "talent_admin.cohort_members": {"admin"},
    "talent_admin.create_token": {"admin"},
    "talent_admin.revoke_token": {"admin"},
    "talent_admin.plan": {"admin"},
    "talent_admin.add_plan_row": {"admin"},
    "talent_admin.change_plan_row": {"admin"},
    "talent_admin.remove_plan_row": {"admin"},
}
ROLES = ("trainee", "instructor", "recruiter", "admin")


def _url(app, endpoint: str, world, submission_id: int = 0) -> tuple[str, set[str]]:
    values = {
        "role_id": "junior-dev",
        "trainee_id": world.trainee_id,
        "cohort_id": 1,
        "token_id": 1,
        "submission_id": submission_id,
        "row_id": 1,
    }
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **{k: values[k] for k in rule.arguments}), rule.methods


def test_every_talent_route_is_listed(app) -> None:
    ours = {
        r.endpoint
        for r in app.url_map.iter_rules()
        if r.endpoint.split(".")[0] in ("recruiter", "skills", "talent_admin")
    }
    assert ours == set(ROUTES)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", sorted(ROUTES))
def test_role_check(app, client, auth, users, world, session, endpoint: str, role: str) -> None:
    talent.set_sharing(session, world.trainee_id, True)
    talent.create_cohort(session, "c1", "Cohort one")
    create_token(session, users.recruiter)
    work = graded(session, world.trainee_id, notebook("x = 1"))
    auth.login(getattr(users, role))
    url, methods = _url(app, endpoint, world, work)
    if "GET" in methods:
        response = client.get(url)
    else:
        response = auth.post(url, {"role": "junior-dev", "status": "shortlisted"})
    if role in ROUTES[endpoint]:
        assert response.status_code in (200, 303, 400), (endpoint, role, response.status)
    else:
        assert response.status_code == 403, (endpoint, role, response.status)


@pytest.mark.parametrize("endpoint", sorted(ROUTES))
def test_anonymous_is_sent_to_sign_in(app, client, auth, world, endpoint: str) -> None:
    url, methods = _url(app, endpoint, world)
    response = (
        client.get(url)
        if "GET" in methods
        else client.post(url, data={"csrf_token": auth.token("/login")})
    )
    if url.endswith(".json"):
        assert response.status_code == 401
    else:
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_recruiter_sees_a_report_only_while_shared(client, auth, users, world, session) -> None:
    auth.login(users.recruiter)
    report = f"/recruiter/candidates/{world.trainee_id}"
    assert client.get(report).status_code == 404
    assert client.get(report + "/report.pdf").status_code == 404
    assert (
        auth.post(report + "/marks", {"role": "junior-dev", "status": "hired"}).status_code == 404
    )
    talent.set_sharing(session, world.trainee_id, True)
    page = client.get(report)
    assert page.status_code == 200 and users.trainee in page.get_data(as_text=True)
    talent.set_sharing(session, world.trainee_id, False)
    assert client.get(report).status_code == 404
    assert client.get(report + "/report.pdf").status_code == 404


def test_unshared_trainees_are_not_listed(client, auth, users, world, session) -> None:
    talent.set_sharing(session, world.trainee_id, True)
    auth.login(users.recruiter)
    html = client.get("/recruiter/roles/junior-dev/candidates").get_data(as_text=True)
    assert users.trainee in html and users.other_trainee not in html
    csv_text = client.get("/recruiter/roles/junior-dev/candidates.csv").get_data(as_text=True)
    assert users.trainee in csv_text and users.other_trainee not in csv_text


def test_a_report_of_a_non_trainee_is_404(client, auth, users, world) -> None:
    auth.login(users.recruiter)
    assert client.get(f"/recruiter/candidates/{world.recruiter_id}").status_code == 404
    assert client.get("/recruiter/candidates/999999").status_code == 404
    assert client.get("/recruiter/roles/nope/candidates").status_code == 404
    assert client.get("/recruiter/roles/nope/pipeline").status_code == 404
