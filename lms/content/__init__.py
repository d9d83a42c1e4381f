"""Course content from files: loading, validating and checking it (no database, no Flask)."""

from lms.content.loader import load_content
from lms.content.model import (
    ContentBundle,
    ContentError,
    Course,
    Exercise,
    HiringTarget,
    Lesson,
    Module,
    Problem,
    Role,
    RoleSkill,
    Skill,
)

__all__ = [
    "ContentBundle",
    "ContentError",
    "Course",
    "Exercise",
    "HiringTarget",
    "Lesson",
    "Module",
    "Problem",
    "Role",
    "RoleSkill",
    "Skill",
    "load_content",
]
