"""The grading worker: claims a job from the database, grades it, applies the result once.

It needs only a session factory and the grader, never a Flask app, so the same loop runs in the
embedded pool's threads or inside another backend's worker process.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from grading.job import GradeJob, GradeResult
from lms.models import SubmissionPurpose
from lms.queue import joblog
from lms.services import grading_jobs, lti_scores

log = logging.getLogger(__name__)

Grader = Callable[[GradeJob], GradeResult]


def default_graders() -> dict[SubmissionPurpose, Grader]:
    """The grader's public API: a full grade, or the visible tests only for "check my work"."""
    import grading

    return {SubmissionPurpose.GRADE: grading.grade, SubmissionPurpose.CHECK: grading.check_work}


class Worker:
    """Grades queued jobs one at a time."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        name: str,
        graders: dict[SubmissionPurpose, Grader] | None = None,
    ) -> None:
        self.sessions = sessions
        self.name = name
        self.graders = graders

    def run_once(self) -> bool:
        """Grade the oldest queued job; False when there was none."""
        with self.sessions() as session:
            job_id = grading_jobs.claim_next(session, self.name)
        if job_id is None:
            return False
        self.process(job_id)
        return True

    def process(self, job_id: int) -> None:
        """Grade an already claimed job and record the outcome (a result or a failure)."""
        with joblog.job_context(job_id):
            self._process(job_id)

    def _process(self, job_id: int) -> None:
        graders = self.graders or default_graders()
        with self.sessions() as session:
            grade_job, purpose = grading_jobs.build_grade_job(session, job_id)
        try:
            result = graders[purpose](grade_job)
        except Exception:  # the grader failed: keep the job and retry, never lose the submission
            log.exception("grading job %s failed", job_id)
            with self.sessions() as session:
                grading_jobs.record_failure(session, job_id, traceback.format_exc())
            return
        try:
            with self.sessions() as session:
                applied = grading_jobs.apply_result(session, job_id, result)
        except Exception:  # e.g. the database went away: retry the job rather than strand it
            log.exception("grading job %s: could not record the result", job_id)
            with self.sessions() as session:
                grading_jobs.record_failure(session, job_id, traceback.format_exc())
            return
        log.info("graded job %s: %s", job_id, grading_jobs.job_summary(result))
        if applied:
            self._send_lti_score(job_id)

    def _send_lti_score(self, job_id: int) -> None:
        # After the result is stored: the LMS hears of the score, and a failure to reach it
        # changes nothing here (it is recorded on the grade link).
        try:
            with self.sessions() as session:
                submission_id = grading_jobs.submission_of(session, job_id)
                if submission_id is not None:
                    lti_scores.send_score(session, submission_id)
        except Exception:
            log.exception("grading job %s: the LTI score could not be sent", job_id)

    def run_forever(
        self, stop: threading.Event, wake: threading.Event, poll_seconds: float = 2.0
    ) -> None:
        """Grade jobs until `stop` is set; sleep until woken (or the poll interval) when idle."""
        while not stop.is_set():
            try:
                worked = self.run_once()
            except Exception:  # a database hiccup must not kill the worker thread
                log.exception("worker %s: unexpected error", self.name)
                worked = False
            if not worked:
                wake.wait(poll_seconds)
                wake.clear()
