"""Pending jobs survive a server restart and are graded after it, by the real grader."""

from __future__ import annotations

import time

from sqlalchemy import select

from lms.models import GradingJob, JobStatus
from lms.queue import get_queue
from lms.services import grading_jobs
from tests.conftest import unfinished_jobs


def test_pending_and_abandoned_jobs_are_graded_after_a_restart(
    app, app_factory, client, auth, users, content, session
) -> None:
    auth.login(users.trainee)
    page = client.get("/exercises/squares").get_data(as_text=True)
    csrf = auth.csrf_token_from(page)
    status_urls = []
    for token in ("first", "second"):
        response = client.post(
            "/exercises/squares/submissions",
            headers={"Accept": "application/json"},
            data={
                "csrf_token": csrf,
                "token": token,
                "origin": "browser",
                "action": "submit",
                "answer-squares": "def squares(n):\n    return [i * i for i in range(n)]",
            },
        )
        assert response.status_code == 202
        status_urls.append(response.json["status_url"])
    # The first server died: one job was being graded, the other was still waiting.
    grading_jobs.claim_next(session, "dead-server:1:0")
    assert [client.get(u).json["status"] for u in status_urls] == ["running", "queued"]

    restarted = app_factory.restart(app)  # a new server process on the same database
    queue = get_queue(restarted)
    queue.start()
    try:
        deadline = time.monotonic() + 120
        while unfinished_jobs(session) and time.monotonic() < deadline:
            session.rollback()
            time.sleep(0.1)
    finally:
        queue.stop()
    session.rollback()
    results = [client.get(u).json for u in status_urls]
    assert [r["status"] for r in results] == ["graded", "graded"]
    assert [r["score"] for r in results] == [2.0, 2.0]
    jobs = session.scalars(select(GradingJob).order_by(GradingJob.id)).all()
    assert [(j.status, j.attempts) for j in jobs] == [(JobStatus.DONE, 2), (JobStatus.DONE, 1)]
    session.rollback()
