"""feedback: what the trainee may read about each test cell and the flags of the run with
visible tests only, and the points behind hidden tests, on each submission

Revision ID: 0009_feedback
Revises: 0008_lang
Create Date: 2026-12-03 13:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_feedback"
down_revision = "0008_lang"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("checks", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("shown_flags", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("hidden_points", sa.Float(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_column("hidden_points")
        batch_op.drop_column("shown_flags")
        batch_op.drop_column("checks")
