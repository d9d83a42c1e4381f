"""submission status derived from its grading job: drop submissions.status, add rejected

Every submission gets a grading job (seeded or imported history without one gets a finished
job), the grader's "rejected" verdict is kept as a flag, and the copied status column goes.

Revision ID: 0004_submission_status_from_job
Revises: 0003
Create Date: 2026-12-02 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_submission_status_from_job"
down_revision = "0003"
branch_labels = None
depends_on = None

STATUS = sa.Enum(
    "queued",
    "running",
    "graded",
    "rejected",
    "failed",
    name="submissionstatus",
    native_enum=False,
    length=20,
)


# Plain ALTER TABLE, never a batch copy: on SQLite a batch drops and re-creates `submissions`,
# and with foreign keys on, dropping it would cascade-delete every grading job.


def upgrade() -> None:
    """Apply this revision."""
    op.add_column(
        "submissions",
        sa.Column("rejected", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.execute("UPDATE submissions SET rejected = (status = 'rejected')")
    # History written without a job (seeded demo cohorts) gets one, so its status is derived.
    op.execute(
        "INSERT INTO grading_jobs (submission_id, status, attempts, queued_at, finished_at) "
        "SELECT id, CASE status WHEN 'graded' THEN 'done' WHEN 'rejected' THEN 'done' "
        "WHEN 'failed' THEN 'failed' ELSE 'queued' END, 0, created_at, graded_at "
        "FROM submissions WHERE id NOT IN (SELECT submission_id FROM grading_jobs)"
    )
    op.drop_column("submissions", "status")


def downgrade() -> None:
    """Revert this revision (the status is copied back from the jobs)."""
    op.add_column(
        "submissions", sa.Column("status", STATUS, nullable=False, server_default="graded")
    )
    op.execute(
        "UPDATE submissions SET status = (SELECT CASE WHEN grading_jobs.status = 'done' THEN "
        "CASE WHEN submissions.rejected THEN 'rejected' ELSE 'graded' END "
        "ELSE grading_jobs.status END FROM grading_jobs "
        "WHERE grading_jobs.submission_id = submissions.id) "
        "WHERE id IN (SELECT submission_id FROM grading_jobs)"
    )
    op.drop_column("submissions", "rejected")
