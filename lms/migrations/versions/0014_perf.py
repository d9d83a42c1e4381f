"""perf: indexes the readiness cache uses to find recent changes (graded, hand-graded, imported)

Revision ID: 0014_perf
Revises: 0013_gradebook
Create Date: 2026-12-03 13:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0014_perf"
down_revision = "0013_gradebook"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_submissions_graded_at", "submissions", ["graded_at"]),
    ("ix_cell_grades_manually_graded_at", "cell_grades", ["manually_graded_at"]),
    ("ix_imported_results_batch_id", "imported_results", ["batch_id"]),
)


def upgrade() -> None:
    """Apply this revision."""
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    """Revert this revision."""
    for name, table, _ in INDEXES:
        op.drop_index(name, table_name=table)
