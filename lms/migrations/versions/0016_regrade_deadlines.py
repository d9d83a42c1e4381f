"""regrades (runs, and per submission its score before and after) and deadlines (an exercise's
due date and late policy, a cohort's due date, a trainee's extension)

Revision ID: 0016_regrade_deadlines
Revises: 0015_hiring_plan
Create Date: 2026-12-04 19:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lms.models.base

revision = "0016_regrade_deadlines"
down_revision = "0015_hiring_plan"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "regrade_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exercise_id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", lms.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["exercise_id"],
            ["exercises.id"],
            name=op.f("fk_regrade_runs_exercise_id_exercises"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_regrade_runs_submission_id_submissions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["by_user_id"],
            ["users.id"],
            name=op.f("fk_regrade_runs_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_regrade_runs")),
    )
    op.create_table(
        "regrade_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("old_score", sa.Float(), nullable=True),
        sa.Column("old_max_score", sa.Float(), nullable=True),
        sa.Column("old_cells", sa.JSON(), nullable=False),
        sa.Column("new_score", sa.Float(), nullable=True),
        sa.Column("new_max_score", sa.Float(), nullable=True),
        sa.Column("kept_by_hand", sa.JSON(), nullable=False),
        sa.Column("dropped_by_hand", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("finished_at", lms.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["regrade_runs.id"],
            name=op.f("fk_regrade_items_run_id_regrade_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_regrade_items_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_regrade_items")),
    )
    with op.batch_alter_table("regrade_items", schema=None) as batch_op:
        batch_op.create_index("ix_regrade_items_run_id", ["run_id"], unique=False)
        batch_op.create_index(
            "ix_regrade_items_submission_id_status", ["submission_id", "status"], unique=False
        )
    op.create_table(
        "exercise_schedules",
        sa.Column("exercise_id", sa.Integer(), nullable=False),
        sa.Column("due_at", lms.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("late_policy", sa.String(length=20), nullable=False),
        sa.Column("penalty_percent_per_day", sa.Float(), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", lms.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["exercise_id"],
            ["exercises.id"],
            name=op.f("fk_exercise_schedules_exercise_id_exercises"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["by_user_id"],
            ["users.id"],
            name=op.f("fk_exercise_schedules_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("exercise_id", name=op.f("pk_exercise_schedules")),
    )
    op.create_table(
        "cohort_due_dates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exercise_id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("due_at", lms.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["exercise_id"],
            ["exercises.id"],
            name=op.f("fk_cohort_due_dates_exercise_id_exercises"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["cohorts.id"],
            name=op.f("fk_cohort_due_dates_cohort_id_cohorts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohort_due_dates")),
        sa.UniqueConstraint(
            "exercise_id", "cohort_id", name=op.f("uq_cohort_due_dates_exercise_id_cohort_id")
        ),
    )
    op.create_table(
        "deadline_extensions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exercise_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("due_at", lms.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("at", lms.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["exercise_id"],
            ["exercises.id"],
            name=op.f("fk_deadline_extensions_exercise_id_exercises"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_deadline_extensions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["by_user_id"],
            ["users.id"],
            name=op.f("fk_deadline_extensions_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deadline_extensions")),
        sa.UniqueConstraint(
            "exercise_id", "user_id", name=op.f("uq_deadline_extensions_exercise_id_user_id")
        ),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("deadline_extensions")
    op.drop_table("cohort_due_dates")
    op.drop_table("exercise_schedules")
    with op.batch_alter_table("regrade_items", schema=None) as batch_op:
        batch_op.drop_index("ix_regrade_items_submission_id_status")
        batch_op.drop_index("ix_regrade_items_run_id")
    op.drop_table("regrade_items")
    op.drop_table("regrade_runs")
