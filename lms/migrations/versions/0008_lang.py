"""exercises: the French source and release notebooks

Revision ID: 0008_lang
Revises: 0007_oidc
Create Date: 2026-12-03 13:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_lang"
down_revision = "0007_oidc"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("exercises", schema=None) as batch_op:
        for column in ("source_fr_sha256", "release_fr_sha256"):
            batch_op.add_column(sa.Column(column, sa.String(length=64), nullable=True))
            batch_op.create_foreign_key(
                f"fk_exercises_{column}_blobs", "blobs", [column], ["sha256"]
            )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("exercises", schema=None) as batch_op:
        for column in ("release_fr_sha256", "source_fr_sha256"):
            batch_op.drop_constraint(f"fk_exercises_{column}_blobs", type_="foreignkey")
            batch_op.drop_column(column)
