"""readiness evidence: normalised notebook fingerprints and instructors' flag clearances

Revision ID: 0005_readiness_evidence
Revises: 0004_submission_status_from_job
Create Date: 2026-12-02 06:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lms.models.base

revision = "0005_readiness_evidence"
down_revision = "0004_submission_status_from_job"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "submission_fingerprints",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("answer_sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_submission_fingerprints_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("submission_id", name=op.f("pk_submission_fingerprints")),
    )
    with op.batch_alter_table("submission_fingerprints", schema=None) as batch_op:
        batch_op.create_index(
            "ix_submission_fingerprints_answer_sha256", ["answer_sha256"], unique=False
        )
    op.create_table(
        "flag_clearances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", lms.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_user_id"],
            ["users.id"],
            name=op.f("fk_flag_clearances_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_flag_clearances_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flag_clearances")),
    )
    with op.batch_alter_table("flag_clearances", schema=None) as batch_op:
        batch_op.create_index("ix_flag_clearances_submission_id", ["submission_id"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("flag_clearances", schema=None) as batch_op:
        batch_op.drop_index("ix_flag_clearances_submission_id")
    op.drop_table("flag_clearances")
    with op.batch_alter_table("submission_fingerprints", schema=None) as batch_op:
        batch_op.drop_index("ix_submission_fingerprints_answer_sha256")
    op.drop_table("submission_fingerprints")
