"""gradebook: instructors' overrides of a cell's score, with their reason

Revision ID: 0013_gradebook
Revises: 0012_editor
Create Date: 2026-12-03 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lms.models.base

revision = "0013_gradebook"
down_revision = "0012_editor"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "grade_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("grade_id", sa.String(length=120), nullable=False),
        sa.Column("grader_score", sa.Float(), nullable=False),
        sa.Column("before", sa.Float(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("max_score", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("at", lms.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_user_id"],
            ["users.id"],
            name=op.f("fk_grade_overrides_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_grade_overrides_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grade_overrides")),
    )
    with op.batch_alter_table("grade_overrides", schema=None) as batch_op:
        batch_op.create_index("ix_grade_overrides_submission_id", ["submission_id"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("grade_overrides", schema=None) as batch_op:
        batch_op.drop_index("ix_grade_overrides_submission_id")
    op.drop_table("grade_overrides")
