"""Every route checks the role and the owner: expectations over the whole URL map.

Our routes are in EXPECTED with the roles that may open them; routes added by other parts of the
app (recruiter reports, API) must at least carry a role check, which is exercised here too."""

from __future__ import annotations

from pathlib import Path

import pytest
from werkzeug.routing import IntegerConverter

from lms.models import Submission, SubmissionPurpose
from lms.services import submissions
from lms.services.blobs import put_blob

ALL = {"trainee", "instructor", "recruiter", "admin"}
LEARNERS = {"trainee", "instructor", "admin"}
# endpoint -> roles that may open it; every route of the app must be listed here.
EXPECTED = {
    "learn.dashboard": LEARNERS,
    "learn.course": LEARNERS,
    "learn.lesson": LEARNERS,
    "exercises.exercise": LEARNERS,
    "exercises.download": LEARNERS,
    "exercises.data_file": LEARNERS,
    "exercises.submit": LEARNERS,
    "exercises.run": LEARNERS,
    "exercises.submission": LEARNERS,
    "exercises.status": LEARNERS,
    "exercises.feedback": LEARNERS,
    "exercises.submitted_notebook": LEARNERS,
    "exercises.graded_notebook": {"instructor", "admin"},
    "exercises.draft": {"trainee"},  # a trainee's own draft: tests/web/test_drafts.py
    "exercises.save_draft": {"trainee"},
    "instructor.index": {"instructor", "admin"},
    "instructor.exercise_submissions": {"instructor", "admin"},
    "instructor.grading_queue": {"instructor", "admin"},
    "instructor.grade_submission": {"instructor", "admin"},
    "instructor.save_grade": {"instructor", "admin"},
    "gradebook.matrix": {"instructor", "admin"},
    "gradebook.matrix_csv": {"instructor", "admin"},
    "gradebook.trainee": {"instructor", "admin"},
    "gradebook.submission": {"instructor", "admin"},
    "gradebook.override": {"instructor", "admin"},
    "gradebook.regrade_submission": {"instructor", "admin"},
    "gradebook.regrade_exercise": {"instructor", "admin"},
    "gradebook.regrade_run": {"instructor", "admin"},
    "gradebook.regrade_run_json": {"instructor", "admin"},
    "gradebook.schedule": {"instructor", "admin"},
    "gradebook.save_schedule": {"instructor", "admin"},
    "gradebook.save_cohort_due": {"instructor", "admin"},
    "gradebook.grant_extension": {"instructor", "admin"},
    "admin.index": {"admin"},
    "admin.set_active": {"admin"},
    "admin.set_role": {"admin"},
    "admin.reset_link": {"admin"},
    "admin.reset_password": {"admin"},
    "admin.delete": {"admin"},
    "admin.audit_log": {"admin"},
    "lti.admin": {"admin"},
    "lti.update_platform": {"admin"},
    "lti.remove_platform": {"admin"},
    "lti.rotate_key": {"admin"},
    "lti.deep_link": {"instructor", "admin"},
    "lti.roster": {"instructor", "admin"},
    "credentials.issue": {"instructor", "admin"},
    "credentials.revoke": {"instructor", "admin"},
    "credentials.mine": {"trainee"},
    "auth.change_password": ALL,
    "auth.sign_out_everywhere": ALL,
    "auth.logout": ALL,
}
# auth.use_link is public (the link is the credential): tested in tests/web/test_account_admin.py.
PUBLIC = {
    "static",
    "pygments_css",
    "auth.login",
    "auth.set_language",
    "learn.home",
    "auth.use_link",
    # OpenID Connect sign-in (404 when not configured): tested in tests/web/test_oidc.py.
    "auth.oidc_login",
    "auth.oidc_callback",
    # LTI: our public keys, and the login and launch an LMS starts (the signed id_token is the
    # credential): tested against a real platform in tests/lti/.
    "lti.jwks",
    "lti.login",
    "lti.launch",
    # Open Badges: verification is public; downloads answer 404 to all but the owner and staff
    # (tested in tests/web/test_credentials.py).
    "credentials.verify_page",
    "credentials.verify",
    "credentials.status",
    "credentials.issuer",
    "credentials.download_json",
    "credentials.download_badge",
}
OWNED = {
    "exercises.submission",
    "exercises.status",
    "exercises.feedback",
    "exercises.submitted_notebook",
}

SOURCE = (
    Path(__file__).parent.parent / "fixtures/content/exercises/squares/squares.ipynb"
).read_bytes()


@pytest.fixture
def world(app, session, users, content):
    """The fixture content, the users, and one graded-looking submission by `users.trainee`."""
    from sqlalchemy import select

    from lms.models import User

    trainee = session.scalar(select(User).where(User.email == users.trainee))
    queued = submissions.submit(
        session,
        user_id=trainee.id,
        exercise_slug="squares",
        notebook=SOURCE,
        name="s.ipynb",
        origin="upload",
        purpose=SubmissionPurpose.GRADE,
        token="t1",
    )
    row = session.get(Submission, queued.submission_id)
    row.feedback_html = "<p>feedback</p>"
    row.graded_notebook_sha256 = put_blob(session, b'{"executed": true}')
    session.commit()
    # An LMS platform (id 1), for the LTI admin routes.
    from lms.services import lti_platforms

    lti_platforms.register(
        session,
        lti_platforms.PlatformInput(
            name="LMS",
            issuer="https://lms.example.org",
            client_id="c",
            auth_login_url="https://lms.example.org/auth",
            auth_token_url="https://lms.example.org/token",
            key_set_url="https://lms.example.org/jwks",
            deployment_ids="1",
        ),
        None,
    )
    from lms.models.credentials import Credential

    session.add(
        Credential(
            id="c-1",
            user_id=trainee.id,
            kind="course",
            subject_slug="intro",
            achievement_name="Introduction",
            jws="x.y.z",
        )
    )
    # A regrade run (id 1) of that exercise, for its progress pages.
    from lms.models.regrades import RegradeRun

    session.add(RegradeRun(exercise_id=row.exercise_id, by_user_id=None))
    session.commit()
    return {
        "slug": "squares",
        "course_slug": "intro",
        "module_slug": "basics",
        "lesson_slug": "01-hello",
        "submission_id": queued.submission_id,
        "user_id": trainee.id,
        "name": "data/numbers.txt",
        "credential_id": "c-1",
    }


def _routes(app) -> dict[str, tuple[str, set[str], set[str]]]:
    """endpoint -> (a URL for it, its methods, the roles that may open it) for every route that
    is not public; roles come from the table above, else from the view's role check."""
    routes = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC or rule.rule.startswith("/api/"):
            continue  # the API authenticates with tokens, not sessions: tested with the API
        roles = EXPECTED.get(rule.endpoint)
        if roles is None:
            allowed = getattr(app.view_functions[rule.endpoint], "allowed_roles", None)
            assert allowed, f"{rule.endpoint} has no role check (use roles_required)"
            roles = {role.value for role in allowed}
        routes[rule.endpoint] = (rule, set(rule.methods), roles)
    return routes


def _url(app, rule, values: dict) -> str:
    from flask import url_for

    args = {}
    for name in rule.arguments:
        numeric = isinstance(rule._converters[name], IntegerConverter)
        args[name] = values.get(name, 1 if numeric else "x")
    with app.test_request_context():
        return url_for(rule.endpoint, **args)


def _request(client, auth, url: str, methods: set[str]):
    if "GET" in methods:
        return client.get(url)
    # POST routes: an empty but CSRF-valid form (the view refuses it or acts harmlessly).
    if "POST" in methods:
        return client.post(url, data={"csrf_token": auth.token("/login")})
    # PUT (the draft's autosave): an empty body with a valid CSRF header, refused by the view.
    return client.put(url, headers={"X-CSRFToken": auth.token("/login")})


def test_every_route_of_ours_is_in_the_table(app) -> None:
    ours = {"learn", "exercises", "instructor", "gradebook", "admin", "auth"}
    endpoints = {r.endpoint for r in app.url_map.iter_rules() if r.endpoint.split(".")[0] in ours}
    assert endpoints - PUBLIC == {e for e in EXPECTED if e.split(".")[0] in ours}


def test_anonymous_is_sent_to_sign_in(app, client, auth, world) -> None:
    failures = []
    for endpoint, (rule, methods, _roles) in sorted(_routes(app).items()):
        url = _url(app, rule, world)
        response = _request(client, auth, url, methods)
        expected = 401 if url.endswith(".json") else 302
        if response.status_code != expected or (
            expected == 302 and "/login" not in response.headers["Location"]
        ):
            failures.append((endpoint, url, response.status))
    assert failures == []


@pytest.mark.parametrize("role", sorted(ALL))
def test_role_check(app, client, auth, users, world, role: str) -> None:
    auth.login(getattr(users, role))
    failures = []
    # Signing out last, or the routes after it would be visited signed out.
    routes = sorted(_routes(app).items(), key=lambda item: (item[0] == "auth.logout", item[0]))
    for endpoint, (rule, methods, roles) in routes:
        url = _url(app, rule, world)
        response = _request(client, auth, url, methods)
        if role not in roles and response.status_code != 403:
            failures.append((endpoint, url, response.status, "should be 403"))
        elif role in roles and endpoint in EXPECTED and response.status_code in (401, 403, 404):
            failures.append((endpoint, url, response.status, "should open"))
    assert failures == []


@pytest.mark.parametrize("endpoint", sorted(OWNED))
def test_another_trainee_gets_404(app, client, auth, users, world, endpoint: str) -> None:
    auth.login(users.other_trainee)
    rule = _routes(app)[endpoint][0]
    assert client.get(_url(app, rule, world)).status_code == 404


@pytest.mark.parametrize("endpoint", sorted(OWNED))
def test_owner_and_staff_see_the_submission(app, client, auth, users, world, endpoint: str) -> None:
    rule = _routes(app)[endpoint][0]
    for email in (users.trainee, users.instructor):
        auth.login(email)
        assert client.get(_url(app, rule, world)).status_code == 200
        auth.logout()


def test_only_staff_are_offered_the_executed_notebook(client, auth, users, world) -> None:
    graded = f"/submissions/{world['submission_id']}/graded.ipynb"
    for email, offered in ((users.trainee, False), (users.instructor, True), (users.admin, True)):
        auth.login(email)
        page = client.get(f"/submissions/{world['submission_id']}").get_data(as_text=True)
        assert (graded in page) is offered, email
        auth.logout()


def test_missing_things_are_404(client, auth, users, world) -> None:
    auth.login(users.trainee)
    for url in (
        "/courses/nope",
        "/courses/intro/basics/nope",
        "/exercises/nope",
        "/exercises/squares/files/nope.txt",
        "/submissions/999999",
        "/submissions/999999.json",
    ):
        assert client.get(url).status_code == 404, url
