"""`lms content-coverage`: how much evidence the content lets a trainee build per critical skill.

For every critical skill of every role: the practice exercises and the assessment exercises with
at least one grade cell mapped to the skill, how many assessment variants those assessments hold
between them (an exercise without `variants` is one), and how many of the exercises are French
as well as English.
"""

from __future__ import annotations

from dataclasses import dataclass

from lms.content.model import ContentBundle, Exercise


@dataclass(frozen=True)
class SkillCoverage:
    """The exercises that give evidence of one critical skill of one role."""

    role: str
    skill: str
    practice: list[str]
    assessments: list[str]
    assessment_variants: int
    french: int  # of practice + assessments, how many are translated

    @property
    def exercises(self) -> int:
        """Practice and assessment exercises together."""
        return len(self.practice) + len(self.assessments)


def _skills_of(exercise: Exercise) -> set[str]:
    return {skill for ids in exercise.skills.values() for skill in ids}


def variant_count(exercise: Exercise) -> int:
    """How many variants an exercise hands out (1 when it has no `variants`)."""
    return max(1, len(exercise.variants))


def coverage(bundle: ContentBundle) -> list[SkillCoverage]:
    """One row per (role, critical skill), in roles.yml order."""
    rows = []
    for role in bundle.roles:
        for wanted in role.skills:
            if not wanted.critical:
                continue
            found = [e for e in bundle.exercises.values() if wanted.skill in _skills_of(e)]
            practice = sorted(e.slug for e in found if e.kind != "assessment")
            assessments = [e for e in found if e.kind == "assessment"]
            rows.append(
                SkillCoverage(
                    role=role.id,
                    skill=wanted.skill,
                    practice=practice,
                    assessments=sorted(e.slug for e in assessments),
                    assessment_variants=sum(variant_count(e) for e in assessments),
                    french=sum(1 for e in found if e.source_fr_json is not None),
                )
            )
    return rows
