"""Names and Role Provisioning: an instructor imports the LMS course's roster into a cohort."""

from __future__ import annotations

import re

import requests
from sqlalchemy import select

from lms.models import User, UserRole
from lms.models.lti import LtiIdentity
from lms.models.talent import Cohort, CohortMember
from tests.lti.conftest import launch
from tests.lti.platform import LEARNER


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)[1]


def test_an_instructor_imports_the_roster_into_the_course_cohort(lti, session) -> None:
    lti.platform.add_user("learner-2", LEARNER, name="Ada")
    lti.platform.add_user("gone-1", LEARNER, status="Inactive")
    lti.platform.add_user("guest-1", "http://purl.imsglobal.org/vocab/lis/v2/membership#Guest")
    browser = requests.Session()
    assert launch(browser, lti.platform.launch_start_url("teacher-1", "squares")).ok
    page = browser.get(lti.tool_url + "/lti/roster")
    assert page.status_code == 200 and "Test course" in page.text
    done = browser.post(lti.tool_url + "/lti/roster", data={"csrf_token": _csrf(page.text)})
    assert done.status_code == 200, done.text
    assert "2 trainees" in done.text and "2 members skipped" in done.text

    cohort = session.scalars(select(Cohort)).one()
    assert cohort.name == "Test course"
    members = session.scalars(
        select(LtiIdentity.sub)
        .join(CohortMember, CohortMember.user_id == LtiIdentity.user_id)
        .where(CohortMember.cohort_id == cohort.id)
    ).all()
    assert sorted(members) == ["learner-1", "learner-2"]
    ada = session.scalars(
        select(User)
        .join(LtiIdentity, LtiIdentity.user_id == User.id)
        .where(LtiIdentity.sub == "learner-2")
    ).one()
    assert ada.role is UserRole.TRAINEE and ada.display_name == "Ada"
    session.rollback()

    # Importing again changes nothing: the same accounts, the same cohort.
    browser.post(lti.tool_url + "/lti/roster", data={"csrf_token": _csrf(page.text)})
    assert len(session.scalars(select(LtiIdentity)).all()) == 3
    assert len(session.scalars(select(Cohort)).all()) == 1


def test_a_learner_cannot_import_the_roster(lti) -> None:
    browser = requests.Session()
    assert launch(browser, lti.platform.launch_start_url("learner-1", "squares")).ok
    assert browser.get(lti.tool_url + "/lti/roster").status_code == 403


def test_the_roster_needs_a_launch_from_the_lms(lti, client, auth, users) -> None:
    auth.login(users.instructor)
    response = client.get("/lti/roster")
    assert response.status_code == 400 and "from the LMS course" in response.get_data(as_text=True)
