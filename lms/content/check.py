"""`lms check-content`: prove every exercise is gradable as shipped.

For each exercise: release it as trainees get it, grade the source (solutions and hidden tests in
place) as a submission — it must get full marks on every autograded cell — and grade the untouched
release — it must get no autograded point, otherwise a trainee scores for doing nothing. Both run
through the real grader, in the sandbox, so a notebook that needs a package, a data file or more
time than its timeout fails here and not in front of a trainee.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import grading
from grading import GradeJob, GradeResult
from grading.cells import CellKind
from lms.content.model import Exercise, Variant


@dataclass(frozen=True)
class CellProblem:
    """One reason an exercise fails the check, naming the cell when there is one."""

    exercise: str
    cell: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.exercise}:{self.cell}" if self.cell else self.exercise
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class ExerciseCheck:
    """The outcome of checking one exercise."""

    exercise: str
    autograded_points: float
    solution_score: float
    release_score: float
    manual_points: float
    problems: list[CellProblem] = field(default_factory=list)
    variants: int = 1  # how many variants were graded (each in every language)
    # a pool's variants in order: the score of the next variant's solution graded against it
    copied_scores: list[float] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the exercise passed."""
        return not self.problems


def _sources(exercise: Exercise) -> list[tuple[str, str, str]]:
    """(variant, language, source notebook) of every variant (the exercise's own notebook when
    it has no variant pool) in every language it is shipped in."""
    variants = exercise.variants or [
        Variant(exercise.notebook_name, exercise.source_json, exercise.source_fr_json)
    ]
    found = []
    for variant in variants:
        found.append((variant.key, "en", variant.source_json))
        if variant.source_fr_json is not None:
            found.append((variant.key, "fr", variant.source_fr_json))
    return found


def _jobs(
    exercise: Exercise, variant: str, language: str, source_json: str
) -> tuple[GradeJob, GradeJob]:
    release_json = grading.release_notebook(source_json)
    common: dict[str, Any] = {
        "source": source_json,
        "files": exercise.files,
        "timeout": exercise.timeout,
        "name": exercise.notebook_name,
    }
    where = f"{exercise.slug}:{variant}:{language}"
    solution = GradeJob(
        submission=source_json.encode("utf-8"), job_id=f"check:{where}:solution", **common
    )
    release = GradeJob(
        submission=release_json.encode("utf-8"), job_id=f"check:{where}:release", **common
    )
    return solution, release


def _run_problems(slug: str, which: str, result: GradeResult) -> list[CellProblem]:
    # Neither run should raise any flag: a timeout or memory flag means the notebook needs more
    # than its limits, a tampering flag that the source itself does not survive grading.
    problems = []
    if result.status != "graded":
        problems.append(CellProblem(slug, None, f"the {which} was rejected: {result.error}"))
    for flag in result.flags:
        _, _, where = flag.partition(":")
        problems.append(CellProblem(slug, where or None, f"grading the {which} flagged {flag}"))
    return problems


def judge(exercise: Exercise, solution: GradeResult, release: GradeResult) -> ExerciseCheck:
    """Compare the two graded runs of an exercise with what they must score."""
    slug = exercise.slug
    problems = _run_problems(slug, "solution", solution) + _run_problems(slug, "release", release)
    tests = [c for c in solution.cells if c.kind == CellKind.TEST]
    for cell in tests:
        if cell.score < cell.max_score:
            problems.append(
                CellProblem(
                    slug,
                    cell.grade_id,
                    f"the solution scores {cell.score:g}/{cell.max_score:g}: a correct answer "
                    "must get full marks (fix the test or the solution)",
                )
            )
    for cell in release.cells:
        if cell.kind == CellKind.TEST and cell.score > 0:
            problems.append(
                CellProblem(
                    slug,
                    cell.grade_id,
                    f"the untouched release scores {cell.score:g}/{cell.max_score:g}: the test "
                    "passes without any work (make it call the trainee's code)",
                )
            )
    return ExerciseCheck(
        exercise=slug,
        autograded_points=sum(c.max_score for c in tests),
        solution_score=sum(c.score for c in tests),
        release_score=sum(c.score for c in release.cells if c.kind == CellKind.TEST),
        manual_points=sum(c.max_score for c in solution.cells if c.kind != CellKind.TEST),
        problems=problems,
    )


def same_grading(slug: str, english: GradeResult, french: GradeResult) -> list[CellProblem]:
    """Where the French notebook grades differently from the English one, cell by cell."""
    scores_en = {c.grade_id: (c.score, c.max_score) for c in english.cells}
    scores_fr = {c.grade_id: (c.score, c.max_score) for c in french.cells}
    return [
        CellProblem(
            slug,
            grade_id,
            f"the French notebook scores {fr[0]:g}/{fr[1]:g} where the English one scores "
            f"{en[0]:g}/{en[1]:g}: both languages must grade the same",
        )
        for grade_id in sorted(scores_en.keys() | scores_fr.keys())
        if (en := scores_en.get(grade_id, (0.0, 0.0)))
        != (fr := scores_fr.get(grade_id, (0.0, 0.0)))
    ]


def _cross_jobs(exercise: Exercise) -> list[GradeJob]:
    """For a variant pool: each variant's English solution graded against the next variant's
    source, as a notebook copied from a trainee with another variant would be."""
    pool = exercise.variants
    if len(pool) < 2:
        return []
    return [
        GradeJob(
            source=variant.source_json,
            submission=pool[(i + 1) % len(pool)].source_json.encode("utf-8"),
            files=exercise.files,
            timeout=exercise.timeout,
            name=exercise.notebook_name,
            job_id=f"check:{exercise.slug}:{variant.key}:copied",
        )
        for i, variant in enumerate(pool)
    ]


def _cross_problems(exercise: Exercise, results: list[GradeResult]) -> list[CellProblem]:
    problems = []
    pool = exercise.variants
    for i, result in enumerate(results):
        tests = [c for c in result.cells if c.kind == CellKind.TEST]
        points = sum(c.max_score for c in tests)
        if points and sum(c.score for c in tests) >= points:
            copied = pool[(i + 1) % len(pool)].key
            problems.append(
                CellProblem(
                    exercise.slug,
                    None,
                    f"(variant {pool[i].key}) the solution of variant {copied} gets full marks "
                    "on it: a copied notebook would pass, so make the variants differ where "
                    "they are graded (data or parameters the tests check)",
                )
            )
    return problems


def check_exercises(exercises: list[Exercise], runtime: Any = None) -> list[ExerciseCheck]:
    """Release and grade every exercise twice (solution, untouched release) in each of its
    languages and, for an assessment with a variant pool, for each variant, in the sandbox; a
    French notebook must also grade exactly as the English one of its variant. In a pool, each
    variant's solution must also fall short of full marks on another variant (a copy fails)."""
    jobs: list[GradeJob] = []
    for exercise in exercises:
        for variant, language, source_json in _sources(exercise):
            jobs.extend(_jobs(exercise, variant, language, source_json))
        jobs.extend(_cross_jobs(exercise))
    results = iter(grading.grade_many(jobs, runtime))
    checks = []
    for exercise in exercises:
        runs: dict[str, dict[str, tuple[GradeResult, GradeResult]]] = {}
        for variant, language, _ in _sources(exercise):
            runs.setdefault(variant, {})[language] = (next(results), next(results))
        crossed = [next(results) for _ in _cross_jobs(exercise)]
        several = len(runs) > 1
        check = None
        problems: list[CellProblem] = []
        for variant, by_language in runs.items():
            label = f"(variant {variant}) " if several else ""
            english = judge(exercise, *by_language["en"])
            if check is None:
                check = english
            problems += [
                CellProblem(p.exercise, p.cell, f"{label}{p.message}") for p in english.problems
            ]
            if "fr" in by_language:
                french = judge(exercise, *by_language["fr"])
                problems += [
                    CellProblem(p.exercise, p.cell, f"{label}(French notebook) {p.message}")
                    for p in french.problems
                ]
                for english_run, french_run in zip(
                    by_language["en"], by_language["fr"], strict=True
                ):
                    problems += [
                        CellProblem(p.exercise, p.cell, f"{label}{p.message}")
                        for p in same_grading(exercise.slug, english_run, french_run)
                    ]
        problems += _cross_problems(exercise, crossed)
        copied = [sum(c.score for c in r.cells if c.kind == CellKind.TEST) for r in crossed]
        checks.append(replace(check, problems=problems, variants=len(runs), copied_scores=copied))
    return checks
