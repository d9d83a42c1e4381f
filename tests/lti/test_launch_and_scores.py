"""LTI 1.3 against a real platform on loopback: launch, submit, the score goes back; and the
launches a hostile or broken platform (or a replaying browser) makes are refused."""

from __future__ import annotations

import re

import pytest
import requests
from sqlalchemy import select

from lms.models import User, UserRole
from lms.models.lti import LtiGradeLink, LtiIdentity
from tests.lti.conftest import launch, launch_form
from tests.lti.platform import INSTRUCTOR, new_rsa_key

RIGHT = {
    "squares": "def squares(n):\n    return [i * i for i in range(n)]",
    "total": "def total(path):\n    return sum(int(x) for x in open(path).read().split())",
}


def _submit(browser: requests.Session, tool_url: str, answers: dict[str, str]) -> dict:
    page = browser.get(tool_url + "/exercises/squares").text
    data = {
        "csrf_token": re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)[1],
        "token": page.split('name="token" value="')[1].split('"')[0],
        "origin": "browser",
        "action": "submit",
    }
    data.update({f"answer-{k}": v for k, v in answers.items()})
    response = browser.post(
        tool_url + "/exercises/squares/submissions",
        data=data,
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 202, response.text
    return response.json()


def test_launch_submit_and_the_score_goes_back(lti, session, run_jobs) -> None:
    browser = requests.Session()
    landed = launch(browser, lti.platform.launch_start_url("learner-1", "squares"))
    assert landed.status_code == 200, landed.text
    assert landed.url == lti.tool_url + "/exercises/squares"
    assert 'name="answer-squares"' in landed.text

    identity = session.scalars(select(LtiIdentity).where(LtiIdentity.sub == "learner-1")).one()
    user = session.get(User, identity.user_id)
    assert user.role is UserRole.TRAINEE and identity.issuer == lti.platform.issuer
    session.commit()

    queued = _submit(browser, lti.tool_url, RIGHT)
    assert run_jobs() == 1
    assert browser.get(lti.tool_url + queued["status_url"]).json()["score"] == 3.0

    # The worker got a token with a client assertion the platform verified against our JWKS
    # over HTTP, then posted the score to the launch's line item.
    assert lti.platform.assertion_errors == []
    assert len(lti.platform.scores) == 1
    score = lti.platform.scores[0]
    assert score["lineitem"] == "link-1" and score["userId"] == "learner-1"
    assert score["scoreGiven"] == 3.0 and score["scoreMaximum"] == 3.0
    assert score["activityProgress"] == "Completed" and score["gradingProgress"] == "FullyGraded"
    link = session.scalars(select(LtiGradeLink)).one()
    assert link.sent_score == 3.0 and link.send_error is None


def test_a_second_launch_signs_in_the_same_account(lti, session) -> None:
    for _ in range(2):
        assert launch(requests.Session(), lti.platform.launch_start_url("learner-1", "squares")).ok
    assert len(session.scalars(select(LtiIdentity)).all()) == 1


def test_an_instructor_launch_makes_an_instructor(lti, session) -> None:
    landed = launch(requests.Session(), lti.platform.launch_start_url("teacher-1", "squares"))
    assert landed.status_code == 200, landed.text
    identity = session.scalars(select(LtiIdentity).where(LtiIdentity.sub == "teacher-1")).one()
    assert session.get(User, identity.user_id).role is UserRole.INSTRUCTOR
    # An instructor's attempts are not the course's grades: no line item kept for them.
    assert session.scalars(select(LtiGradeLink)).all() == []


def test_a_score_the_platform_refuses_is_recorded_not_raised(lti, session, run_jobs) -> None:
    browser = requests.Session()
    launch(browser, lti.platform.launch_start_url("learner-1", "squares"))
    lti.platform.tokens.clear()
    lti.platform.client_id = "someone-else"  # the platform no longer knows our client id
    _submit(browser, lti.tool_url, RIGHT)
    assert run_jobs() == 1
    assert lti.platform.scores == []
    link = session.scalars(select(LtiGradeLink)).one()
    assert link.sent_score is None and "401" in (link.send_error or "")


def _refused(response: requests.Response, words: str) -> None:
    assert response.status_code in (400, 403), response.text
    assert words in response.text, response.text
    assert "/exercises/squares" not in response.url


def test_a_tampered_id_token_is_refused(lti, session) -> None:
    browser = requests.Session()
    action, fields = launch_form(browser, lti.platform.launch_start_url("learner-1", "squares"))
    header, body, signature = fields["id_token"].split(".")
    import base64
    import json

    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["https://purl.imsglobal.org/spec/lti/claim/roles"] = [INSTRUCTOR]
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    fields["id_token"] = f"{header}.{forged}.{signature}"
    _refused(browser.post(action, data=fields), "signature")
    assert session.scalars(select(LtiIdentity)).all() == []


def test_a_learner_forging_an_instructor_token_with_their_own_key_is_refused(lti, session) -> None:
    # Same kid as the platform's key, but signed with the attacker's key.
    attacker_pem, _ = new_rsa_key()
    lti.platform.sign_with = (attacker_pem, lti.platform.public_jwk["kid"])
    lti.platform.claims_patch = lambda c: c.update(
        {"https://purl.imsglobal.org/spec/lti/claim/roles": [INSTRUCTOR]}
    )
    _refused(
        launch(requests.Session(), lti.platform.launch_start_url("learner-1", "squares")),
        "signature",
    )
    # And with a key id the platform does not publish.
    lti.platform.sign_with = (attacker_pem, "attacker-key")
    _refused(
        launch(requests.Session(), lti.platform.launch_start_url("learner-1", "squares")),
        "does not publish",
    )
    assert session.scalars(select(LtiIdentity)).all() == []


def test_a_wrong_nonce_is_refused(lti, session) -> None:
    lti.platform.claims_patch = lambda c: c.update(nonce="not-the-nonce-we-sent")
    _refused(
        launch(requests.Session(), lti.platform.launch_start_url("learner-1", "squares")),
        "already used (or its login expired)",
    )


def test_an_unknown_deployment_is_refused(lti, session) -> None:
    lti.platform.claims_patch = lambda c: c.update(
        {"https://purl.imsglobal.org/spec/lti/claim/deployment_id": "deployment-unknown"}
    )
    _refused(
        launch(requests.Session(), lti.platform.launch_start_url("learner-1", "squares")),
        "deployment id",
    )


def test_a_replayed_launch_is_refused(lti, session) -> None:
    browser = requests.Session()
    action, fields = launch_form(browser, lti.platform.launch_start_url("learner-1", "squares"))
    assert browser.post(action, data=fields).status_code == 200
    _refused(browser.post(action, data=fields), "already used")
    # From another browser it is refused too.
    _refused(requests.Session().post(action, data=fields), "already used")


def test_a_launch_from_a_browser_that_did_not_start_the_login_is_refused(lti, session) -> None:
    action, fields = launch_form(
        requests.Session(), lti.platform.launch_start_url("learner-1", "squares")
    )
    # An id_token caught in transit and posted from another browser (no state cookie).
    _refused(requests.Session().post(action, data=fields), "login started here")


def test_an_unregistered_platform_cannot_start_a_login(lti, session) -> None:
    response = requests.get(
        lti.tool_url + "/lti/login",
        params={"iss": "https://evil.example", "login_hint": "x", "target_link_uri": "x"},
        allow_redirects=False,
    )
    _refused(response, "not registered")


@pytest.mark.parametrize("exercise", ["no-such-exercise"])
def test_a_link_to_a_missing_exercise_says_so(lti, session, exercise) -> None:
    _refused(
        launch(requests.Session(), lti.platform.launch_start_url("learner-1", exercise)),
        "does not exist",
    )
    assert session.scalars(select(LtiIdentity)).all() == []


def test_scores_still_go_back_after_a_key_rotation(lti, session, run_jobs) -> None:
    from lms.services import lti_keys

    browser = requests.Session()
    launch(browser, lti.platform.launch_start_url("learner-1", "squares"))
    old = lti_keys.signing_key(session).kid
    new = lti_keys.rotate(session, None).kid
    assert new != old
    _submit(browser, lti.tool_url, RIGHT)
    assert run_jobs() == 1
    assert lti.platform.assertion_errors == [] and len(lti.platform.scores) == 1


@pytest.fixture
def essay(app, session, lti, fixture_content, tmp_path):
    """The essay exercise (a written answer and a task, graded by hand) imported too."""
    import shutil

    from lms.services.content_import import import_content
    from tests.web.test_manual_grading import ESSAY_YML, _essay_notebook

    root = tmp_path / "content"
    shutil.copytree(fixture_content, root)
    folder = root / "exercises" / "essay"
    folder.mkdir()
    (folder / "exercise.yml").write_text(ESSAY_YML)
    (folder / "essay.ipynb").write_text(_essay_notebook())
    import_content(session, root)
    return lti


def test_a_hand_grade_sends_the_new_score_again(essay, session, run_jobs, client, auth, users):
    lti = essay
    browser = requests.Session()
    page = launch(browser, lti.platform.launch_start_url("learner-1", "essay")).text
    data = {
        "csrf_token": re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)[1],
        "token": page.split('name="token" value="')[1].split('"')[0],
        "origin": "browser",
        "action": "submit",
        "answer-double": "def double(x):\n    return 2 * x",
        "answer-explain": "It multiplies by two.",
    }
    queued = browser.post(
        lti.tool_url + "/exercises/essay/submissions",
        data=data,
        headers={"Accept": "application/json"},
    ).json()
    assert run_jobs() == 1
    first = lti.platform.scores[-1]
    assert first["gradingProgress"] == "PendingManual" and first["scoreGiven"] == 1.0

    auth.login(users.instructor)
    submission_id = queued["submission_id"]
    for grade_id, score in (("explain", "2"), ("review_task", "3")):
        response = auth.post(
            f"/instructor/submissions/{submission_id}/grading",
            {"grade_id": grade_id, "score": score, "comment": ""},
        )
        assert response.status_code == 302, response.get_data(as_text=True)
    assert len(lti.platform.scores) == 3
    last = lti.platform.scores[-1]
    assert last["scoreGiven"] == 6.0 and last["scoreMaximum"] == 6.0
    assert last["gradingProgress"] == "FullyGraded"


def test_an_override_in_the_gradebook_sends_the_new_score_again(
    lti, session, run_jobs, auth, users
) -> None:
    browser = requests.Session()
    launch(browser, lti.platform.launch_start_url("learner-1", "squares"))
    queued = _submit(browser, lti.tool_url, RIGHT)
    assert run_jobs() == 1
    assert [s["scoreGiven"] for s in lti.platform.scores] == [3.0]

    auth.login(users.instructor)
    response = auth.post(
        f"/instructor/gradebook/submissions/{queued['submission_id']}",
        {"grade_id": "test_squares", "score": "0", "reason": "The test missed a case it fails."},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    last = lti.platform.scores[-1]
    assert len(lti.platform.scores) == 2 and last["scoreGiven"] == 1.0
    assert last["gradingProgress"] == "FullyGraded"


def test_refusals_speak_the_browser_language(lti, session) -> None:
    lti.platform.claims_patch = lambda c: c.update(
        {"https://purl.imsglobal.org/spec/lti/claim/deployment_id": "deployment-unknown"}
    )
    browser = requests.Session()
    browser.headers.update({"Accept-Language": "fr", "Accept": "text/html"})
    refused = launch(browser, lti.platform.launch_start_url("learner-1", "squares"))
    assert refused.status_code == 403
    assert "Ce déploiement de l" in refused.text and "identifiant de déploiement" in refused.text
