"""Assignment and Grade Services: a launched exercise's score goes back to the LMS's line item
when grading ends, and again after a hand grade changes it.

The token is a client-credentials grant with a JWT signed by our key (pylti1p3's service
connector); a failure is recorded on the grade link and logged, never raised into grading.
"""

from __future__ import annotations

import logging

from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.grade import Grade
from pylti1p3.service_connector import ServiceConnector
from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.models import Submission, SubmissionPurpose
from lms.models.base import utcnow
from lms.models.lti import LtiGradeLink
from lms.services import lti_platforms

log = logging.getLogger(__name__)


def _grade(submission: Submission, sub: str) -> Grade:
    manual = submission.needs_manual_grade
    return (
        Grade()
        .set_score_given(float(submission.score or 0.0))
        .set_score_maximum(float(submission.max_score or 0.0))
        .set_activity_progress("Completed")
        .set_grading_progress("PendingManual" if manual else "FullyGraded")
        .set_timestamp(utcnow().isoformat())
        .set_user_id(sub)
    )


def send_score(session: Session, submission_id: int) -> int:
    """Send a graded submission's score to every line item its exercise was launched from by
    its trainee; how many were sent. Check runs, rejected notebooks and unlaunched work send
    nothing."""
    submission = session.get(Submission, submission_id)
    if (
        submission is None
        or submission.purpose is not SubmissionPurpose.GRADE
        or submission.rejected
        or submission.graded_at is None
        or not submission.max_score
    ):
        session.rollback()
        return 0
    links = list(
        session.scalars(
            select(LtiGradeLink).where(
                LtiGradeLink.user_id == submission.user_id,
                LtiGradeLink.exercise_id == submission.exercise_id,
            )
        )
    )
    sent = 0
    for link in links:
        try:
            registration = lti_platforms.registration_for(session, link.platform)
            service = AssignmentsGradesService(
                ServiceConnector(registration, lti_platforms.http_session()),
                {"scope": list(link.scopes), "lineitem": link.lineitem_url},
            )
            service.put_grade(_grade(submission, link.sub))
        except Exception as error:  # the LMS is down or refused: keep why, grading goes on
            log.warning("LTI score for submission %s not sent: %s", submission.id, error)
            link.send_error = str(error)[:2000]
        else:
            link.sent_score, link.sent_submission_id = submission.score, submission.id
            link.sent_at, link.send_error = utcnow(), None
            sent += 1
    session.commit()
    return sent
