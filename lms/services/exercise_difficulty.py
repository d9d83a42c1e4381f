"""Where trainees struggle: per grade cell, the share of graded attempts that missed it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from lms.models import CellGrade, GradeCell, Submission, SubmissionPurpose, SubmissionStatus


@dataclass(frozen=True)
class CellDifficulty:
    """One grade cell of an exercise over every graded attempt that has a grade for it."""

    grade_id: str
    kind: str
    graded: int  # attempts with a grade for this cell (cells still waiting for a person: not)
    missed: int  # of those, how many did not earn the cell's full points

    @property
    def missed_share(self) -> float:
        """The share of graded attempts that missed this cell (0 to 1)."""
        return self.missed / self.graded if self.graded else 0.0


def cell_difficulty(session: Session) -> dict[int, list[CellDifficulty]]:
    """Per exercise id, its grade cells in notebook order, in one set-based query."""
    missed = func.sum(case((CellGrade.score < CellGrade.max_score, 1), else_=0))
    rows = session.execute(
        select(
            Submission.exercise_id,
            CellGrade.grade_id,
            CellGrade.kind,
            func.min(GradeCell.position),
            func.count(),
            missed,
        )
        .join(Submission, Submission.id == CellGrade.submission_id)
        # Cells dropped from a re-imported exercise have no position: they come last.
        .outerjoin(
            GradeCell,
            (GradeCell.exercise_id == Submission.exercise_id)
            & (GradeCell.grade_id == CellGrade.grade_id),
        )
        .where(
            Submission.purpose == SubmissionPurpose.GRADE,
            Submission.status == SubmissionStatus.GRADED,
            CellGrade.needs_manual_grade.is_(False),
            CellGrade.max_score > 0,
        )
        .group_by(Submission.exercise_id, CellGrade.grade_id, CellGrade.kind)
    )
    ordered: dict[int, list[tuple]] = defaultdict(list)
    for exercise_id, grade_id, kind, position, graded, missed_count in rows:
        key = (position is None, position or 0, grade_id)
        ordered[exercise_id].append((key, CellDifficulty(grade_id, kind, graded, missed_count)))
    return {
        eid: [cell for _, cell in sorted(cells, key=lambda item: item[0])]
        for eid, cells in ordered.items()
    }
