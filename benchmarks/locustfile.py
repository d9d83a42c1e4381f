"""Locust users for benchmarks/web_load.py (run by it; reads its set-up from ATLAS_LOAD_*).

Trainees sign in (once per account: users sharing an account share its cookies, so scrypt
does not dominate the run), then browse their pages; one user in ten is a recruiter who browses the
pipeline and downloads candidates' PDF reports. "trivial" is the baseline: a static file served
by the same application, through the same server, under the same load.
"""

from __future__ import annotations

import json
import os
import random
import re

from gevent.lock import Semaphore
from locust import HttpUser, between, task

SETUP = json.loads(os.environ["ATLAS_LOAD_SETUP"])
_CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
_signed_in: dict[str, dict[str, str]] = {}  # account -> its session cookies
_signing_in = Semaphore()


class _SignedIn(HttpUser):
    abstract = True
    wait_time = between(0.5, 2.0)
    email = ""

    def on_start(self) -> None:
        """Sign in through the real form (CSRF token included), once per account."""
        with _signing_in:
            if self.email not in _signed_in:
                self._sign_in()
                _signed_in[self.email] = self.client.cookies.get_dict()
        self.client.cookies.update(_signed_in[self.email])

    def _sign_in(self) -> None:
        page = self.client.get("/login", name="sign-in form")
        token = _CSRF.search(page.text)
        answer = self.client.post(
            "/login",
            name="sign-in",
            allow_redirects=False,
            data={
                "email": self.email,
                "password": SETUP["password"],
                "csrf_token": token.group(1) if token else "",
            },
        )
        if answer.status_code != 302:
            answer.failure(f"sign-in of {self.email} answered {answer.status_code}")

    @task(2)
    def trivial(self) -> None:
        """The baseline: a static file through the application."""
        self.client.get("/static/favicon.svg", name="trivial")


class Trainee(_SignedIn):
    """A trainee following a course."""

    weight = 9

    def on_start(self) -> None:
        """A trainee of the seeded cohort."""
        self.email = random.choice(SETUP["trainees"])
        super().on_start()

    @task(4)
    def learn(self) -> None:
        """My courses."""
        self.client.get("/learn", name="/learn")

    @task(3)
    def course(self) -> None:
        """A course page."""
        self.client.get(f"/courses/{random.choice(SETUP['courses'])}", name="/courses/<slug>")

    @task(2)
    def skills(self) -> None:
        """My skills against the roles."""
        self.client.get("/skills/", name="/skills/")


class Recruiter(_SignedIn):
    """A recruiter browsing the pipeline and downloading reports."""

    weight = 1

    def on_start(self) -> None:
        """The recruiter account."""
        self.email = SETUP["recruiter"]
        super().on_start()

    @task(2)
    def pipeline(self) -> None:
        """Every role's pipeline."""
        self.client.get("/recruiter/", name="/recruiter/")

    @task(2)
    def report_pdf(self) -> None:
        """A shared candidate's PDF report."""
        if SETUP["shared"]:
            trainee = random.choice(SETUP["shared"])
            self.client.get(
                f"/recruiter/candidates/{trainee}/report.pdf",
                name="/recruiter/candidates/<id>/report.pdf",
            )
