"""hiring_targets: who last edited a row of the plan in the browser, and when

Revision ID: 0015_hiring_plan
Revises: 0014_perf
Create Date: 2026-12-04 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_hiring_plan"
down_revision = "0014_perf"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("hiring_targets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("edited_by_user_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_hiring_targets_edited_by_user_id_users",
            "users",
            ["edited_by_user_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("hiring_targets", schema=None) as batch_op:
        batch_op.drop_constraint("fk_hiring_targets_edited_by_user_id_users", type_="foreignkey")
        batch_op.drop_column("edited_by_user_id")
        batch_op.drop_column("edited_at")
