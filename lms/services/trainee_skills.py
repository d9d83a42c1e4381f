"""A trainee's own view: their skills against each role's target, the gaps, and what closes them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.models import Course, Exercise, GradeCell, GradeCellSkill, Module, ModuleExercise
from lms.readiness import RoleReadiness, SkillLine
from lms.services import names, progress, role_readiness, talent

SUGGESTIONS_PER_ROLE = 3


@dataclass(frozen=True)
class ModuleSuggestion:
    """A module whose unfinished exercises practise skills the trainee is missing."""

    course_slug: str
    course_title: str
    module_title: str
    skills: tuple[str, ...]
    next_exercise: str  # slug of its first unfinished exercise on those skills


@dataclass(frozen=True)
class RoleGap:
    """One role: the readiness, the skills not yet demonstrated, and modules that close the gap."""

    role_id: str
    role_name: str
    readiness: RoleReadiness
    missing: list[SkillLine]
    modules: list[ModuleSuggestion]


@dataclass(frozen=True)
class MySkills:
    """Everything the "My skills" page shows."""

    roles: list[RoleGap]
    skill_names: dict[str, str]
    shared: bool
    consent: list[talent.ConsentEvent]


def my_skills(session: Session, trainee_id: int, language: str = "en") -> MySkills:
    """The trainee's readiness for every role, their gaps, and the next modules to take, named
    in `language`."""
    role_names = names.role_names(session, language)
    cohort = role_readiness.cohort_readiness(session, user_ids=[trainee_id])
    by_role = cohort.by_trainee.get(trainee_id, {})
    coverage = _module_coverage(session, language)
    done = progress.done_exercises(session, trainee_id)
    gaps = []
    for role in cohort.roles:
        result = by_role[role.id]
        missing = sorted(
            (line for line in result.skills if not line.demonstrated),
            key=lambda line: (not line.critical, line.mastery - line.target),
        )
        gaps.append(
            RoleGap(
                role.id,
                role_names.get(role.id, role.id),
                result,
                missing,
                _suggest(coverage, {line.skill: line for line in missing}, done),
            )
        )
    return MySkills(
        gaps,
        names.skill_names(session, language),
        talent.is_shared(session, trainee_id),
        talent.consent_history(session, trainee_id),
    )


def _module_coverage(session: Session, language: str) -> list[tuple]:
    """(course slug, course title, module title, exercise id, exercise slug, skill), in order,
    the titles in `language`."""
    return session.execute(
        select(
            Course.slug,
            names.localized(Course.title, Course.title_fr, language),
            names.localized(Module.title, Module.title_fr, language),
            Exercise.id,
            Exercise.slug,
            GradeCellSkill.skill_id,
        )
        .join(Module, Module.course_id == Course.id)
        .join(ModuleExercise, ModuleExercise.module_id == Module.id)
        .join(Exercise, Exercise.id == ModuleExercise.exercise_id)
        .join(GradeCell, GradeCell.exercise_id == Exercise.id)
        .join(GradeCellSkill, GradeCellSkill.grade_cell_id == GradeCell.id)
        .order_by(Course.position, Module.position, ModuleExercise.position, GradeCell.position)
    ).all()


def _suggest(
    coverage: list[tuple], missing: dict[str, SkillLine], done: set[int]
) -> list[ModuleSuggestion]:
    """Modules with unfinished exercises on missing skills: most critical gaps covered first."""
    found: dict[tuple[str, str], dict] = {}
    for course_slug, course_title, module_title, exercise_id, slug, skill in coverage:
        if skill not in missing or exercise_id in done:
            continue
        entry = found.setdefault(
            (course_slug, module_title),
            {"course_title": course_title, "skills": {}, "next": slug, "order": len(found)},
        )
        entry["skills"][skill] = None
    ranked = sorted(
        found.items(),
        key=lambda item: (
            -sum(2 if missing[s].critical else 1 for s in item[1]["skills"]),
            item[1]["order"],
        ),
    )
    return [
        ModuleSuggestion(
            course_slug, entry["course_title"], module_title, tuple(entry["skills"]), entry["next"]
        )
        for (course_slug, module_title), entry in ranked[:SUGGESTIONS_PER_ROLE]
    ]
