"""Atlas's models, one aggregate per module; importing this package registers them all."""

from lms.models.accounts import (
    AccountLink,
    ExternalIdentity,
    LinkPurpose,
    LoginAttempt,
    User,
    UserRole,
)
from lms.models.base import Base, utcnow
from lms.models.blobs import Blob
from lms.models.content import (
    Course,
    Exercise,
    ExerciseFile,
    ExerciseKind,
    GradeCell,
    GradeCellSkill,
    HiringTarget,
    Lesson,
    Module,
    ModuleExercise,
    Role,
    RoleSkill,
    Skill,
)
from lms.models.drafts import Draft
from lms.models.grading_jobs import GradingJob, JobStatus
from lms.models.submissions import CellGrade, Submission, SubmissionPurpose, SubmissionStatus
from lms.models.variants import ExerciseVariant, VariantAssignment

__all__ = [
    "Base",
    "utcnow",
    "User",
    "UserRole",
    "LoginAttempt",
    "AccountLink",
    "LinkPurpose",
    "ExternalIdentity",
    "Blob",
    "Course",
    "Module",
    "Lesson",
    "Exercise",
    "ExerciseFile",
    "ExerciseKind",
    "GradeCell",
    "GradeCellSkill",
    "ModuleExercise",
    "Skill",
    "Role",
    "RoleSkill",
    "HiringTarget",
    "Submission",
    "SubmissionPurpose",
    "SubmissionStatus",
    "CellGrade",
    "Draft",
    "GradingJob",
    "JobStatus",
    "ExerciseVariant",
    "VariantAssignment",
]
from lms.models import (  # noqa: F401 - registers their tables
    api_tokens,
    audit,
    credentials,
    deadlines,
    evidence,
    gradebook,
    lti,
    regrades,
    talent,
)
