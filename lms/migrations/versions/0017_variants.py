"""variants: assessment variant pools and the variant each trainee was given

Revision ID: 0017_variants
Revises: 0016_regrade_deadlines
Create Date: 2026-12-04 19:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lms.models.base

revision = "0017_variants"
down_revision = "0016_regrade_deadlines"
branch_labels = None
depends_on = None


def _blob(table: str, column: str, nullable: bool) -> tuple[sa.Column, sa.ForeignKeyConstraint]:
    return sa.Column(column, sa.String(length=64), nullable=nullable), sa.ForeignKeyConstraint(
        [column], ["blobs.sha256"], name=op.f(f"fk_{table}_{column}_blobs")
    )


def upgrade() -> None:
    """Apply this revision."""
    blobs = [
        _blob("exercise_variants", "source_sha256", False),
        _blob("exercise_variants", "release_sha256", False),
        _blob("exercise_variants", "source_fr_sha256", True),
        _blob("exercise_variants", "release_fr_sha256", True),
    ]
    op.create_table(
        "exercise_variants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exercise_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        *(column for column, _ in blobs),
        *(constraint for _, constraint in blobs),
        sa.ForeignKeyConstraint(
            ["exercise_id"],
            ["exercises.id"],
            name=op.f("fk_exercise_variants_exercise_id_exercises"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exercise_variants")),
        sa.UniqueConstraint(
            "exercise_id", "key", name=op.f("uq_exercise_variants_exercise_id_key")
        ),
    )
    op.create_table(
        "variant_assignments",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("exercise_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("assigned_at", lms.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["exercise_id"],
            ["exercises.id"],
            name=op.f("fk_variant_assignments_exercise_id_exercises"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_variant_assignments_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "exercise_id", name=op.f("pk_variant_assignments")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("variant_assignments")
    op.drop_table("exercise_variants")
