"""Fixtures for the LTI tests: the test platform and our application, both served over HTTP on
loopback, and a browser-like client that follows the launch between them."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from flask import Flask
from sqlalchemy import select

from lms.models import User
from lms.services import lti_platforms
from tests.lti.platform import TestPlatform, serve

_INPUT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
_ACTION = re.compile(r'<form id="launch" method="post" action="([^"]+)">')


@dataclass
class LtiWorld:
    """The platform, our tool's base URL, and the platform's registration here."""

    platform: TestPlatform
    tool_url: str
    platform_id: int


@pytest.fixture
def lti_platform() -> Iterator[TestPlatform]:
    """The test LMS, served on a loopback port."""
    platform = TestPlatform()
    with serve(platform.app) as url:
        platform.url = url
        yield platform


@pytest.fixture
def tool_url(app: Flask) -> Iterator[str]:
    """Our application, served on a loopback port (the platform fetches our JWKS from it)."""
    with serve(app) as url:
        yield url


@pytest.fixture
def lti(lti_platform: TestPlatform, tool_url: str, session, users, content) -> LtiWorld:
    """The platform registered here and told our URLs; a learner and an instructor in it."""
    lti_platform.tool_login_url = tool_url + "/lti/login"
    lti_platform.tool_launch_url = tool_url + "/lti/launch"
    lti_platform.tool_jwks_url = tool_url + "/lti/jwks.json"
    lti_platform.add_user("learner-1", "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner")
    lti_platform.add_user(
        "teacher-1", "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
    )
    admin = session.scalar(select(User.id).where(User.email == users.admin))
    registered = lti_platforms.register(
        session, lti_platforms.PlatformInput(**lti_platform.registration()), admin
    )
    return LtiWorld(lti_platform, tool_url, registered.id)


def launch_form(browser: requests.Session, start_url: str) -> tuple[str, dict[str, str]]:
    """Follow an LMS link to the platform's auto-submitted form: its action and fields."""
    page = browser.get(start_url)
    assert page.status_code == 200, page.text
    action = _ACTION.search(page.text)
    assert action, page.text
    fields = {name: html.unescape(value) for name, value in _INPUT.findall(page.text)}
    return html.unescape(action.group(1)), fields


def launch(browser: requests.Session, start_url: str, **changes: str) -> requests.Response:
    """Do what the browser does with the form: post it to the tool (fields changed if asked)."""
    action, fields = launch_form(browser, start_url)
    fields.update(changes)
    return browser.post(action, data=fields)
