"""A synthetic cohort with known true skill levels: graded history over months, deterministic.

How the history is made (an item-response model, so the truth is known and the noise realistic):
- each trainee has a latent ability theta per skill, in logits: a skill's baseline + a general
  ability shared by all their skills + a skill-specific part. Their *true level* of a skill is
  sigmoid(theta at `as_of`): the chance of earning the points of a cell of average difficulty.
  That is what mastery estimates, so rankings, decisions and intervals can be checked;
- they learn: theta rises linearly over the months, from (peak - a per-skill learning gap);
- they forget: a skill not exercised for t days has lost FORGETTING_LOGITS * t / (t + 120) logits
  (the truth at `as_of` includes what was forgotten since the skill was last exercised);
- each cell has its own difficulty (exercise difficulty + the cell's); it is passed with
  probability sigmoid(theta - difficulty + a sitting effect shared by the submission's cells),
  theta the mean over the cell's skills; autograded cells are all-or-nothing, manually graded
  ones get partial credit in half points;
- exercises come in course order, one every few days with jitter; a trainee skips a few;
- a practice exercise not fully passed is often retried after feedback, with a boost (the
  feedback told them what was wrong: why retries are inflated and the model discounts them);
  assessments are taken once.

`lms seed` turns the submissions into database rows; the tests use the Evidence directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from lms.readiness.evidence import Evidence, EvidenceKind
from lms.readiness.roles import Role, RoleSkill

# One track's worth of skills: what a trainee's 60 exercises over six months exercise.
DEFAULT_SKILLS: tuple[str, ...] = (
    "python-basics",
    "pandas-cleaning",
    "sql-joins",
    "data-modelling",
    "data-quality",
    "pipeline-orchestration",
)
DEFAULT_AS_OF = datetime(2026, 11, 1, tzinfo=UTC)

ASSESSMENT_SHARE = 0.25  # one exercise in four is an assessment
# IRT slope: how sharply a cell's pass chance rises with ability. 1.7 is the classic scaling that
# makes the logistic curve match the normal ogive; well-built autograded cells are about that sharp.
DISCRIMINATION = 1.0
SITTING_SD = 0.3  # logits: a good or bad day, shared by one submission's cells
CELL_DIFFICULTY_SD = 0.6  # logits: cells of one exercise differ in difficulty
FORGETTING_LOGITS = 0.4
FORGETTING_DAYS = 120.0
CELLS_PER_EXERCISE = (3, 6)  # grade cells per exercise, fewest and most
MANUAL_CELL_SHARE = 0.2  # share of grade cells graded by hand, with partial credit
SKIP_PROBABILITY = 0.08  # chance a trainee never attempts a given exercise
RETRY_PROBABILITY = 0.6  # chance a practice exercise not fully passed is retried
MAX_ATTEMPTS = 3
PRACTICE_HELP = (
    0.15  # chance a practice cell is passed with help (notes, a peer), whatever the skill
)
FEEDBACK_BOOST = 0.8  # logits gained on a retry by having read the feedback
MAX_LEARNING_GAP = 1.0  # logits a trainee may still have to learn at the start


@dataclass(frozen=True, slots=True)
class SyntheticCell:
    """A grade cell: its id, points, the skills it evidences, and whether it is graded by hand."""

    grade_id: str
    max_score: float
    skills: tuple[str, ...]
    manual: bool = False
    difficulty: float = 0.0  # logits, added to the exercise's


@dataclass(frozen=True, slots=True)
class SyntheticExercise:
    """An exercise of the synthetic catalogue: slug, kind, difficulty (logits) and cells."""

    slug: str
    kind: EvidenceKind
    difficulty: float
    cells: tuple[SyntheticCell, ...]


@dataclass(frozen=True, slots=True)
class SyntheticSubmission:
    """One graded submission: who, which exercise, which attempt, when, and each cell's score."""

    submission_id: str
    trainee: str
    exercise: str
    attempt: int
    after_feedback: bool
    at: datetime
    cell_scores: tuple[tuple[str, float], ...]  # (grade_id, score)


@dataclass(frozen=True)
class SyntheticTrainee:
    """A trainee with known true levels per skill, their submissions and the evidence from them."""

    email: str
    true_levels: dict[str, float]
    submissions: tuple[SyntheticSubmission, ...]
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True)
class SyntheticCohort:
    """The whole synthetic cohort: skills, catalogue, trainees, and the date it is seen from."""

    skills: tuple[str, ...]
    exercises: tuple[SyntheticExercise, ...]
    trainees: tuple[SyntheticTrainee, ...]
    start: datetime
    as_of: datetime

    def evidence_by_trainee(self) -> dict[str, tuple[Evidence, ...]]:
        """Each trainee's evidence, keyed by email."""
        return {trainee.email: trainee.evidence for trainee in self.trainees}

    def true_levels(self) -> dict[str, dict[str, float]]:
        """Each trainee's true level per skill, keyed by email."""
        return {trainee.email: trainee.true_levels for trainee in self.trainees}


def generate_catalogue(
    count: int, skills: tuple[str, ...], rng: np.random.Generator
) -> tuple[SyntheticExercise, ...]:
    """A course-ordered catalogue of `count` exercises covering `skills` evenly."""
    exercises = []
    for number in range(count):
        primary = skills[number % len(skills)]
        cells = []
        for cell_number in range(
            int(rng.integers(CELLS_PER_EXERCISE[0], CELLS_PER_EXERCISE[1] + 1))
        ):
            cell_skills = [primary]
            if len(skills) > 1 and rng.random() < 0.3:
                other = [skill for skill in skills if skill != primary]
                cell_skills.append(other[int(rng.integers(len(other)))])
            cells.append(
                SyntheticCell(
                    grade_id=f"cell-{cell_number + 1}",
                    max_score=float(rng.integers(1, 4)),
                    skills=tuple(cell_skills),
                    manual=bool(rng.random() < MANUAL_CELL_SHARE),
                    difficulty=float(rng.normal(0.0, CELL_DIFFICULTY_SD)),
                )
            )
        kind: EvidenceKind = "assessment" if rng.random() < ASSESSMENT_SHARE else "practice"
        exercises.append(
            SyntheticExercise(
                slug=f"exercise-{number + 1:03d}",
                kind=kind,
                difficulty=float(rng.normal(0.0, 0.6)),
                cells=tuple(cells),
            )
        )
    return tuple(exercises)


def generate_cohort(
    trainees: int = 200,
    exercises: int | tuple[SyntheticExercise, ...] = 60,
    skills: tuple[str, ...] = DEFAULT_SKILLS,
    months: int = 6,
    seed: int = 0,
    as_of: datetime = DEFAULT_AS_OF,
) -> SyntheticCohort:
    """A cohort of `trainees` working through `exercises` over `months`, the same for a seed."""
    if trainees < 1 or months < 1 or not skills:
        raise ValueError("a synthetic cohort needs at least one trainee, one month and one skill")
    rng = np.random.default_rng(seed)
    catalogue = (
        generate_catalogue(exercises, skills, rng) if isinstance(exercises, int) else exercises
    )
    if not catalogue:
        raise ValueError("a synthetic cohort needs at least one exercise")
    unknown = sorted(
        {skill for exercise in catalogue for cell in exercise.cells for skill in cell.skills}
        - set(skills)
    )
    if unknown:
        raise ValueError(f"the exercises use skills not in the skill list: {unknown}")
    span = timedelta(days=30 * months)
    start = as_of - span
    skill_baseline = dict(zip(skills, rng.uniform(-0.2, 1.2, len(skills)), strict=True))
    people = tuple(
        _simulate_trainee(
            f"trainee{number + 1:04d}@example.org", catalogue, skill_baseline, start, span, rng
        )
        for number in range(trainees)
    )
    return SyntheticCohort(tuple(skills), catalogue, people, start, as_of)


def evidence_from_submission(
    submission: SyntheticSubmission, exercise: SyntheticExercise
) -> list[Evidence]:
    """The Evidence a graded submission gives: one per (cell, skill the cell is mapped to)."""
    cells = {cell.grade_id: cell for cell in exercise.cells}
    return [
        Evidence(
            skill=skill,
            score=score,
            max_score=cells[grade_id].max_score,
            at=submission.at,
            kind=exercise.kind,
            exercise=exercise.slug,
            attempt=submission.attempt,
            after_feedback=submission.after_feedback,
            grade_id=grade_id,
            submission_id=submission.submission_id,
            cell_skills=len(cells[grade_id].skills),
            # Every synthetic submission is fresh work: none is a re-sent notebook.
            fingerprint=submission.submission_id,
        )
        for grade_id, score in submission.cell_scores
        for skill in cells[grade_id].skills
    ]


def _sigmoid(logit: float) -> float:
    return 1.0 / (1.0 + np.exp(-logit))


def _forgotten(days: float) -> float:
    """Logits lost after `days` without exercising a skill."""
    return FORGETTING_LOGITS * days / (days + FORGETTING_DAYS) if days > 0 else 0.0


def _simulate_trainee(
    email: str,
    catalogue: tuple[SyntheticExercise, ...],
    skill_baseline: dict[str, float],
    start: datetime,
    span: timedelta,
    rng: np.random.Generator,
) -> SyntheticTrainee:
    general = rng.normal()
    final = {
        skill: base + 0.8 * general + 0.9 * rng.normal() for skill, base in skill_baseline.items()
    }
    gap = {skill: rng.uniform(0.0, MAX_LEARNING_GAP) for skill in skill_baseline}
    last_seen: dict[str, datetime] = {}
    end = start + span
    submissions: list[SyntheticSubmission] = []
    evidence: list[Evidence] = []
    for position, exercise in enumerate(catalogue):
        if rng.random() < SKIP_PROBABILITY:
            continue
        progress = (position + 0.5) / len(catalogue)
        jitter = rng.uniform(-0.02, 0.02)
        progress = min(max(progress + jitter, 0.0), 1.0)
        at = start + span * progress
        for attempt in range(1, MAX_ATTEMPTS + 1):
            at = min(at, end)
            boost = FEEDBACK_BOOST if attempt > 1 else 0.0
            sitting = float(rng.normal(0.0, SITTING_SD))
            ability = {
                skill: final[skill]
                - gap[skill] * (1 - progress)
                - _forgotten(
                    (at - last_seen[skill]).total_seconds() / 86_400 if skill in last_seen else 0.0
                )
                for skill in final
            }
            scores = tuple(
                (cell.grade_id, _grade_cell(cell, ability, boost + sitting, exercise, rng))
                for cell in exercise.cells
            )
            submission = SyntheticSubmission(
                submission_id=f"{email}/{exercise.slug}/{attempt}",
                trainee=email,
                exercise=exercise.slug,
                attempt=attempt,
                after_feedback=attempt > 1,
                at=at,
                cell_scores=scores,
            )
            submissions.append(submission)
            evidence.extend(evidence_from_submission(submission, exercise))
            for cell in exercise.cells:
                for skill in cell.skills:
                    last_seen[skill] = at
            perfect = all(
                score == cell.max_score
                for (_, score), cell in zip(scores, exercise.cells, strict=True)
            )
            if exercise.kind == "assessment" or perfect or rng.random() > RETRY_PROBABILITY:
                break
            at += timedelta(hours=float(rng.uniform(1, 72)))
    true_levels = {
        skill: float(
            _sigmoid(
                theta
                - _forgotten(
                    (end - last_seen[skill]).total_seconds() / 86_400 if skill in last_seen else 0.0
                )
            )
        )
        for skill, theta in final.items()
    }
    return SyntheticTrainee(email, true_levels, tuple(submissions), tuple(evidence))


def _grade_cell(
    cell: SyntheticCell,
    ability: dict[str, float],
    shift: float,
    exercise: SyntheticExercise,
    rng: np.random.Generator,
) -> float:
    """A cell's score: pass probability from the trainee's ability at that time (IRT)."""
    theta = float(np.mean([ability[skill] for skill in cell.skills]))
    difficulty = exercise.difficulty + cell.difficulty
    chance = _sigmoid(DISCRIMINATION * (theta + shift - difficulty))
    if exercise.kind == "practice":
        chance = PRACTICE_HELP + (1 - PRACTICE_HELP) * chance
    if cell.manual:
        halves = int(round(cell.max_score * 2))
        return float(rng.binomial(halves, chance)) / 2
    return cell.max_score if rng.random() < chance else 0.0


# Roles over the synthetic catalogue's skills, for the ranking tests and the benchmark.
EXAMPLE_ROLES = (
    Role(
        "data-engineer",
        (
            RoleSkill("sql-joins", 0.6, weight=2, critical=True),
            RoleSkill("pandas-cleaning", 0.6, weight=1, critical=True),
            RoleSkill("data-modelling", 0.6, weight=1),
            RoleSkill("pipeline-orchestration", 0.6, weight=1),
        ),
    ),
    Role(
        "data-analyst",
        (
            RoleSkill("python-basics", 0.6, weight=1, critical=True),
            RoleSkill("data-quality", 0.6, weight=2, critical=True),
            RoleSkill("sql-joins", 0.6, weight=1),
        ),
    ),
    Role(
        "platform-engineer",
        (
            RoleSkill("pipeline-orchestration", 0.6, weight=2, critical=True),
            RoleSkill("python-basics", 0.6, weight=1),
            RoleSkill("data-modelling", 0.6, weight=1),
        ),
    ),
)
