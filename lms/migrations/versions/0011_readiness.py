"""readiness: an assessment's retake cool-down, per exercise

Revision ID: 0011_readiness
Revises: 0010_lti
Create Date: 2026-12-03 13:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_readiness"
down_revision = "0010_lti"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("exercises", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retake_after_days", sa.Float(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("exercises", schema=None) as batch_op:
        batch_op.drop_column("retake_after_days")
