"""`lms import-results`: graded history from another system (an nbgrader gradebook, another LMS).

The CSV has one row per graded cell: email, exercise, grade_id, score, max_score, submitted_at,
kind (practice | assessment: the catalogue's kind of the exercise; a row saying otherwise is
refused). Every row is checked first and every problem is reported with its row number (the
header is row 1); one bad row and nothing is imported. Rows already imported
(same trainee, exercise, cell and date) are skipped, so importing a file twice is harmless.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.errors import Invalid
from lms.i18n import N_
from lms.models import Exercise, GradeCell, User, UserRole, utcnow
from lms.models.talent import ImportBatch, ImportedResult
from lms.readiness.evidence import EVIDENCE_KINDS

COLUMNS = ("email", "exercise", "grade_id", "score", "max_score", "submitted_at", "kind")


class ResultsImportError(Invalid):
    """The file cannot be imported; `problems` lists each one (row numbers included)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(
            N_("Nothing was imported; fix these rows and retry: %(problems)s"),
            problems="; ".join(problems),
        )
        self.problems = problems


@dataclass(frozen=True)
class ResultsImportSummary:
    """What an import did."""

    rows: int
    imported: int
    already_there: int
    batch_id: int | None


@dataclass(frozen=True)
class _Row:
    number: int
    user_id: int
    exercise_id: int
    grade_id: str
    score: float
    max_score: float
    submitted_at: datetime
    kind: str


def import_results(session: Session, data: bytes, filename: str) -> ResultsImportSummary:
    """Validate every row of the CSV, then import them all in one transaction (or nothing)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ResultsImportError(
            [f"{filename}: not UTF-8 text; save the file as UTF-8 CSV"]
        ) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ResultsImportError(
            [
                f"{filename}: row 1 (header) lacks column(s) {', '.join(missing)};"
                f" the header must be: {','.join(COLUMNS)}"
            ]
        )
    raw = list(reader)
    if not raw:
        raise ResultsImportError([f"{filename}: no result rows after the header"])
    rows, problems = _check_rows(session, raw)
    if problems:
        session.rollback()
        raise ResultsImportError(problems)
    existing = set(
        session.execute(
            select(
                ImportedResult.user_id,
                ImportedResult.exercise_id,
                ImportedResult.grade_id,
                ImportedResult.submitted_at,
            ).where(ImportedResult.user_id.in_({r.user_id for r in rows}))
        )
    )
    new = [
        r for r in rows if (r.user_id, r.exercise_id, r.grade_id, r.submitted_at) not in existing
    ]
    batch_id = None
    if new:
        batch = ImportBatch(
            filename=filename[:300],
            sha256=hashlib.sha256(data).hexdigest(),
            rows=len(new),
            imported_at=utcnow(),
        )
        session.add(batch)
        session.flush()
        batch_id = batch.id
        session.add_all(
            ImportedResult(
                batch_id=batch.id,
                user_id=r.user_id,
                exercise_id=r.exercise_id,
                grade_id=r.grade_id,
                score=r.score,
                max_score=r.max_score,
                submitted_at=r.submitted_at,
                kind=r.kind,
                row_number=r.number,
            )
            for r in new
        )
    session.commit()
    return ResultsImportSummary(len(rows), len(new), len(rows) - len(new), batch_id)


def _check_rows(session: Session, raw: list[dict[str, str]]) -> tuple[list[_Row], list[str]]:
    """Parse and check every row against the database (four queries in all)."""
    emails = {(r.get("email") or "").strip().lower() for r in raw}
    slugs = {(r.get("exercise") or "").strip() for r in raw}
    users = dict(
        session.execute(
            select(User.email, User.id).where(User.email.in_(emails), User.role == UserRole.TRAINEE)
        ).all()
    )
    catalogue = {
        slug: (eid, str(kind))
        for slug, eid, kind in session.execute(
            select(Exercise.slug, Exercise.id, Exercise.kind).where(Exercise.slug.in_(slugs))
        )
    }
    exercises = {slug: eid for slug, (eid, _) in catalogue.items()}
    cells = set(
        session.execute(
            select(GradeCell.exercise_id, GradeCell.grade_id).where(
                GradeCell.exercise_id.in_(list(exercises.values()))
            )
        )
    )
    rows: list[_Row] = []
    problems: list[str] = []
    seen: dict[tuple, int] = {}
    now = utcnow()
    for number, record in enumerate(raw, start=2):
        where = f"row {number}"
        found: list[str] = []
        if None in record:
            found.append("has more fields than the header")
        email = (record.get("email") or "").strip().lower()
        slug = (record.get("exercise") or "").strip()
        grade_id = (record.get("grade_id") or "").strip()
        kind = (record.get("kind") or "").strip().lower()
        if email not in users:
            found.append(f"unknown e-mail {email!r} (no trainee account; create it first)")
        if slug not in exercises:
            found.append(f"unknown exercise {slug!r} (import the content first)")
        elif (exercises[slug], grade_id) not in cells:
            found.append(f"exercise {slug!r} has no grade cell {grade_id!r}")
        if kind not in EVIDENCE_KINDS:
            found.append(f"kind must be practice or assessment, got {kind!r}")
        elif slug in catalogue and kind != catalogue[slug][1]:
            # The catalogue decides what an exercise is: an import cannot make practice count
            # as an assessment (which weighs more).
            found.append(
                f"kind {kind!r} contradicts the catalogue: exercise {slug!r} is"
                f" {catalogue[slug][1]!r}; fix the kind column"
            )
        score, max_score = _number(record.get("score")), _number(record.get("max_score"))
        if max_score is None or max_score <= 0:
            found.append(f"max_score must be a positive number, got {record.get('max_score')!r}")
        if score is None or score < 0 or (max_score is not None and score > max_score):
            found.append(f"score must be a number from 0 to max_score, got {record.get('score')!r}")
        at = _moment(record.get("submitted_at"))
        if at is None:
            found.append(
                "submitted_at must be an ISO 8601 date-time such as"
                f" 2026-03-01T14:30:00Z, got {record.get('submitted_at')!r}"
            )
        elif at > now:
            found.append(f"submitted_at {at.isoformat()} is in the future")
        if found:
            problems.extend(f"{where}: {problem}" for problem in found)
            continue
        key = (users[email], exercises[slug], grade_id, at)
        if key in seen:
            problems.append(f"{where}: repeats row {seen[key]} (same e-mail, exercise, cell, date)")
            continue
        seen[key] = number
        rows.append(
            _Row(number, users[email], exercises[slug], grade_id, score, max_score, at, kind)
        )
    return rows, problems


def _number(value: str | None) -> float | None:
    try:
        number = float((value or "").strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _moment(value: str | None) -> datetime | None:
    text = (value or "").strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
