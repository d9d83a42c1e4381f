"""Deep linking: an instructor picks an exercise from inside the LMS; the signed answer the
platform receives verifies against our JWKS and links that exercise."""

from __future__ import annotations

import re

import requests

from tests.lti.conftest import launch

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)[1]


def test_an_instructor_links_an_exercise_from_the_lms(lti) -> None:
    browser = requests.Session()
    picker = launch(browser, lti.platform.deep_link_start_url("teacher-1"))
    assert picker.status_code == 200, picker.text
    assert picker.url == lti.tool_url + "/lti/deep-link"
    assert 'value="squares"' in picker.text
    answer = browser.post(
        picker.url, data={"csrf_token": _csrf(picker.text), "exercise": "squares"}
    )
    assert answer.status_code == 200, answer.text
    assert lti.platform.url in answer.headers["Content-Security-Policy"]
    action = re.search(r'<form id="deep-link-return" method="post" action="([^"]+)"', answer.text)
    token = re.search(r'name="JWT" value="([^"]+)"', answer.text)[1]
    assert browser.post(action[1], data={"JWT": token}).text == "linked"

    (claims,) = lti.platform.deep_links
    assert claims["https://purl.imsglobal.org/spec/lti/claim/message_type"] == (
        "LtiDeepLinkingResponse"
    )
    assert claims[DL + "data"] == "opaque-platform-data"
    (item,) = claims[DL + "content_items"]
    assert item["type"] == "ltiResourceLink" and item["custom"] == {"exercise": "squares"}
    assert item["url"] == lti.tool_url + "/exercises/squares"

    # The link it made opens the exercise for a learner.
    landed = launch(requests.Session(), lti.platform.launch_start_url("learner-1", "squares"))
    assert landed.url == lti.tool_url + "/exercises/squares"


def test_a_learner_cannot_pick_what_the_course_links_to(lti) -> None:
    browser = requests.Session()
    refused = launch(browser, lti.platform.deep_link_start_url("learner-1"))
    assert refused.status_code == 403 and "Only the course's instructors" in refused.text
    assert browser.get(lti.tool_url + "/lti/deep-link").status_code in (302, 401, 403)


def test_the_picker_needs_a_deep_linking_launch(lti, client, auth, users) -> None:
    auth.login(users.instructor)
    response = client.get("/lti/deep-link")
    assert response.status_code == 400 and "Start from the LMS" in response.get_data(as_text=True)


def test_a_missing_exercise_is_refused_and_nothing_is_signed(lti) -> None:
    browser = requests.Session()
    picker = launch(browser, lti.platform.deep_link_start_url("teacher-1"))
    answer = browser.post(picker.url, data={"csrf_token": _csrf(picker.text), "exercise": "nope"})
    assert answer.status_code == 400 and "does not exist" in answer.text
    assert 'name="JWT"' not in answer.text
