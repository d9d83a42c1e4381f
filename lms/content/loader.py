"""Load and validate course content from files: pure (no database, no Flask).

`load_content(root)` reads `root/courses/` (course.yml + Markdown lessons, skills.yml, roles.yml)
and `root/exercises/` (exercise.yml + nbgrader source notebook + data files) and returns a
`ContentBundle`, or raises `ContentError` listing every problem as `file:line: message`, so an
author fixes everything in one pass instead of one error per run.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt

from lms.content.model import (
    EXERCISE_KINDS,
    LANGUAGES,
    TRACKS,
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
from lms.content.notebook import NotebookProblem, grade_cells_of, line_of_grade_id
from lms.content.yaml_lines import LineDict, LineList, YamlSyntaxError, load_yaml_with_lines

__all__ = ["ContentError", "Problem", "load_content"]

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
SKILL_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
DEFAULT_TIMEOUT = 30.0
# Folders in courses/ and exercises/ that are not content (editor and tool droppings).
IGNORED_DIRS = {"__pycache__", ".ipynb_checkpoints"}


def load_content(root: Path) -> ContentBundle:
    """Load and validate everything under `root` (courses/ and exercises/); raise ContentError."""
    return _Loader(Path(root)).load()


class _Loader:
    """One load: collects every problem instead of stopping at the first."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []

    # -- reporting -------------------------------------------------------------------------

    def rel(self, path: Path) -> str:
        """The path relative to the content root, with forward slashes."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    def report(self, file: str, line: int | None, message: str) -> None:
        """Record one problem."""
        self.problems.append(Problem(file, line, message))

    # -- the whole tree --------------------------------------------------------------------

    def load(self) -> ContentBundle:
        """Load the tree; raise ContentError when anything was reported."""
        courses_dir = self.root / "courses"
        exercises_dir = self.root / "exercises"
        if not courses_dir.is_dir():
            self.report("courses", None, "missing folder: the content root must hold courses/")
        skills = self.load_skills(courses_dir / "skills.yml")
        skill_ids = {s.id for s in skills}
        roles, hiring_plan = self.load_roles(courses_dir / "roles.yml", skill_ids)
        exercises = self.load_exercises(exercises_dir, skill_ids)
        courses = self.load_courses(courses_dir, exercises_dir, set(exercises))
        if self.problems:
            # One file at a time, top to bottom: the order an author fixes them in.
            raise ContentError(sorted(self.problems, key=lambda p: (p.file, p.line or 0)))
        return ContentBundle(
            skills=skills,
            roles=roles,
            hiring_plan=hiring_plan,
            courses=courses,
            exercises=exercises,
        )

    # -- YAML plumbing ---------------------------------------------------------------------

    def read_yaml(self, path: Path, what: str) -> LineDict | None:
        """Parse a YAML file that must hold a mapping; report and return None when it cannot."""
        file = self.rel(path)
        if not path.is_file():
            self.report(file, None, f"missing file: {what} is required here")
            return None
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            self.report(file, None, "not UTF-8 text: save the file as UTF-8")
            return None
        try:
            data = load_yaml_with_lines(text)
        except YamlSyntaxError as exc:
            self.report(file, exc.line, f"{exc.message}; fix the YAML syntax")
            return None
        if not isinstance(data, LineDict):
            self.report(
                file, getattr(data, "line", 1), f"{what} must be a YAML mapping (key: value)"
            )
            return None
        return data

    def check_keys(
        self, data: LineDict, file: str, what: str, required: set[str], optional: set[str]
    ) -> None:
        """Report duplicate, unknown and missing keys of one mapping."""
        for key, line in data.duplicates:
            self.report(file, line, f"key {key!r} appears twice in {what}; keep one")
        allowed = required | optional
        for key in data:
            if key not in allowed:
                self.report(
                    file,
                    data.key_lines[key],
                    f"unknown key {key!r} in {what}; allowed keys: {', '.join(sorted(allowed))}",
                )
        for key in sorted(required - set(data)):
            self.report(file, data.line, f"{what} is missing the required key {key!r}")

    def mapping_items(self, value: Any, file: str, line: int, what: str) -> list[LineDict]:
        """The items of a YAML list that must hold mappings (reporting the ones that do not)."""
        if not isinstance(value, LineList):
            self.report(file, line, f"{what} must be a YAML list")
            return []
        items = []
        for item, item_line in zip(value, value.item_lines, strict=True):
            if isinstance(item, LineDict):
                items.append(item)
            else:
                self.report(file, item_line, f"each entry of {what} must be a mapping (key: value)")
        return items

    def text(self, data: LineDict, key: str, file: str, what: str) -> str | None:
        """A non-empty string value (None when absent: check_keys reports missing ones)."""
        if key not in data:
            return None
        value = data[key]
        if not isinstance(value, str) or not value.strip():
            self.report(file, data.key_lines[key], f"{what}: {key!r} must be a non-empty text")
            return None
        return value.strip()

    def slug(self, data: LineDict, key: str, file: str, what: str, pattern=SLUG) -> str | None:
        """An identifier value: lower-case letters, digits and dashes."""
        value = data.get(key)
        if key not in data:
            return None
        if not isinstance(value, str) or not pattern.match(value):
            allowed = "letters a-z, digits and '-'"
            if pattern is SKILL_ID:
                allowed += " or '_'"
            self.report(
                file,
                data.key_lines[key],
                f"{what}: {key!r} must be an identifier ({allowed}), got {value!r}",
            )
            return None
        return value

    def choice(
        self, data: LineDict, key: str, choices: tuple[str, ...], file: str, what: str
    ) -> str | None:
        """A value that must be one of `choices`."""
        if key not in data:
            return None
        value = data[key]
        if value not in choices:
            self.report(
                file,
                data.key_lines[key],
                f"{what}: {key!r} must be one of {', '.join(choices)}, got {value!r}",
            )
            return None
        return value

    def number(
        self,
        data: LineDict,
        key: str,
        file: str,
        what: str,
        *,
        low: float,
        high: float | None = None,
        low_inclusive: bool = True,
    ) -> float | None:
        """A number in [low, high] (or (low, high] when low is exclusive)."""
        if key not in data:
            return None
        value = data[key]
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok:
            ok = value >= low if low_inclusive else value > low
            ok = ok and (high is None or value <= high)
        if not ok:
            bound = f"{'>=' if low_inclusive else '>'} {low:g}"
            if high is not None:
                bound += f" and <= {high:g}"
            self.report(
                file,
                data.key_lines[key],
                f"{what}: {key!r} must be a number {bound}, got {value!r}",
            )
            return None
        return float(value)

    # -- skills and roles ------------------------------------------------------------------

    def load_skills(self, path: Path) -> list[Skill]:
        """courses/skills.yml: the skill taxonomy."""
        file = self.rel(path)
        data = self.read_yaml(path, "the skill taxonomy (skills.yml)")
        if data is None:
            return []
        self.check_keys(data, file, "skills.yml", {"skills"}, set())
        skills: list[Skill] = []
        seen: dict[str, int] = {}
        if "skills" not in data:
            return skills
        for item in self.mapping_items(data["skills"], file, data.key_lines["skills"], "skills"):
            what = f"skill {item.get('id', '?')!r}"
            self.check_keys(item, file, what, {"id", "name", "track"}, {"name_fr"})
            skill_id = self.slug(item, "id", file, what, pattern=SKILL_ID)
            name = self.text(item, "name", file, what)
            name_fr = self.text(item, "name_fr", file, what)
            track = self.choice(item, "track", TRACKS, file, what)
            if skill_id is not None and skill_id in seen:
                self.report(
                    file,
                    item.key_lines["id"],
                    f"skill id {skill_id!r} is already defined at line {seen[skill_id]}",
                )
                continue
            if skill_id is None or name is None or track is None:
                continue
            seen[skill_id] = item.key_lines["id"]
            skills.append(Skill(id=skill_id, name=name, name_fr=name_fr, track=track))
        return skills

    def load_roles(self, path: Path, skill_ids: set[str]) -> tuple[list[Role], list[HiringTarget]]:
        """courses/roles.yml: target roles and the hiring plan."""
        file = self.rel(path)
        data = self.read_yaml(path, "the target roles (roles.yml)")
        if data is None:
            return [], []
        self.check_keys(data, file, "roles.yml", {"roles"}, {"hiring_plan"})
        roles: list[Role] = []
        seen: dict[str, int] = {}
        if "roles" in data:
            for item in self.mapping_items(data["roles"], file, data.key_lines["roles"], "roles"):
                role = self.load_role(item, file, skill_ids)
                if role is None:
                    continue
                if role.id in seen:
                    self.report(
                        file,
                        item.key_lines["id"],
                        f"role id {role.id!r} is already defined at line {seen[role.id]}",
                    )
                    continue
                seen[role.id] = item.key_lines["id"]
                roles.append(role)
        plan: list[HiringTarget] = []
        if "hiring_plan" in data:
            entries = self.mapping_items(
                data["hiring_plan"], file, data.key_lines["hiring_plan"], "hiring_plan"
            )
            targets: dict[tuple[str, dt.date], int] = {}
            for item in entries:
                target = self.load_hiring_target(item, file, set(seen))
                if target is None:
                    continue
                key = (target.role, target.by)
                if key in targets:
                    self.report(
                        file,
                        item.line,
                        f"hiring_plan already has a target for {target.role!r} by "
                        f"{target.by.isoformat()} (line {targets[key]}); merge the two counts",
                    )
                    continue
                targets[key] = item.line
                plan.append(target)
        return roles, plan

    def load_role(self, item: LineDict, file: str, skill_ids: set[str]) -> Role | None:
        """One role of roles.yml."""
        what = f"role {item.get('id', '?')!r}"
        self.check_keys(item, file, what, {"id", "name", "track", "skills"}, {"name_fr"})
        role_id = self.slug(item, "id", file, what)
        name = self.text(item, "name", file, what)
        name_fr = self.text(item, "name_fr", file, what)
        track = self.choice(item, "track", TRACKS, file, what)
        required: list[RoleSkill] = []
        seen: set[str] = set()
        if "skills" in item:
            entries = self.mapping_items(item["skills"], file, item.key_lines["skills"], what)
            if not entries:
                self.report(
                    file, item.key_lines["skills"], f"{what} must require at least one skill"
                )
            for entry in entries:
                where = f"{what}, skill {entry.get('skill', '?')!r}"
                self.check_keys(entry, file, where, {"skill", "level", "weight"}, {"critical"})
                skill = self.slug(entry, "skill", file, where, pattern=SKILL_ID)
                level = self.number(entry, "level", file, where, low=0.0, high=1.0)
                weight = self.number(entry, "weight", file, where, low=0.0, low_inclusive=False)
                critical = entry.get("critical", False)
                if not isinstance(critical, bool):
                    self.report(
                        file,
                        entry.key_lines["critical"],
                        f"{where}: 'critical' must be true or false, got {critical!r}",
                    )
                    continue
                if skill is not None and skill not in skill_ids:
                    self.report(
                        file,
                        entry.key_lines["skill"],
                        f"{where}: unknown skill {skill!r}; define it in courses/skills.yml",
                    )
                    continue
                if skill in seen:
                    self.report(
                        file, entry.key_lines["skill"], f"{where}: skill listed twice in the role"
                    )
                    continue
                if skill is None or level is None or weight is None:
                    continue
                seen.add(skill)
                required.append(RoleSkill(skill, level, weight, critical))
        if role_id is None or name is None or track is None:
            return None
        return Role(id=role_id, name=name, name_fr=name_fr, track=track, skills=required)

    def load_hiring_target(
        self, item: LineDict, file: str, role_ids: set[str]
    ) -> HiringTarget | None:
        """One entry of the hiring plan."""
        what = f"hiring_plan entry for {item.get('role', '?')!r}"
        self.check_keys(item, file, what, {"role", "count", "by"}, set())
        role = self.slug(item, "role", file, what)
        if role is not None and role not in role_ids:
            self.report(
                file, item.key_lines["role"], f"{what}: unknown role {role!r}; define it in roles:"
            )
            role = None
        count = item.get("count")
        if "count" in item and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
            self.report(
                file,
                item.key_lines["count"],
                f"{what}: 'count' must be a whole number >= 1, got {count!r}",
            )
            count = None
        by = item.get("by")
        if "by" in item and (not isinstance(by, dt.date) or isinstance(by, dt.datetime)):
            self.report(
                file,
                item.key_lines["by"],
                f"{what}: 'by' must be a date like 2027-06-30, got {by!r}",
            )
            by = None
        if role is None or count is None or by is None:
            return None
        return HiringTarget(role=role, count=count, by=by)

    # -- exercises -------------------------------------------------------------------------

    def load_exercises(self, exercises_dir: Path, skill_ids: set[str]) -> dict[str, Exercise]:
        """Every folder of exercises/, sorted by slug."""
        exercises: dict[str, Exercise] = {}
        if not exercises_dir.is_dir():
            return exercises
        for folder in sorted(p for p in exercises_dir.iterdir() if p.is_dir()):
            if folder.name in IGNORED_DIRS or folder.name.startswith("."):
                continue
            exercise = self.load_exercise(folder, skill_ids)
            if exercise is not None:
                exercises[exercise.slug] = exercise
        return exercises

    def load_exercise(self, folder: Path, skill_ids: set[str]) -> Exercise | None:
        """One exercise folder: exercise.yml, its source notebook and data files."""
        yml = folder / "exercise.yml"
        file = self.rel(yml)
        slug = folder.name
        if not SLUG.match(slug):
            self.report(
                self.rel(folder),
                None,
                "exercise folder names are slugs (letters a-z, digits and '-'); rename the folder",
            )
            return None
        data = self.read_yaml(yml, "exercise.yml")
        if data is None:
            return None
        what = "exercise.yml"
        self.check_keys(
            data,
            file,
            what,
            {"title", "kind", "notebook", "skills"},
            {"title_fr", "files", "timeout"},
        )
        title = self.text(data, "title", file, what)
        title_fr = self.text(data, "title_fr", file, what)
        kind = self.choice(data, "kind", EXERCISE_KINDS, file, what)
        timeout = DEFAULT_TIMEOUT
        if "timeout" in data:
            timeout = self.number(data, "timeout", file, what, low=0.0, low_inclusive=False)
        files = self.exercise_files(data, folder, file)
        notebook_name, source_json, grade_cells = self.exercise_notebook(data, folder, file)
        skills = self.exercise_skills(data, file, source_json, grade_cells, skill_ids)
        if None in (title, kind, timeout, files, source_json, skills):
            return None
        return Exercise(
            slug=slug,
            title=title,
            title_fr=title_fr,
            kind=kind,
            notebook_name=notebook_name,
            source_json=source_json,
            files=files,
            timeout=timeout,
            skills=skills,
            grade_cells=grade_cells,
        )

    def exercise_files(self, data: LineDict, folder: Path, file: str) -> dict[str, bytes] | None:
        """The data files listed in exercise.yml, read as bytes."""
        files: dict[str, bytes] = {}
        if "files" not in data:
            return files
        value = data["files"]
        if not isinstance(value, LineList):
            self.report(file, data.key_lines["files"], "'files' must be a list of paths")
            return None
        ok = True
        for name, line in zip(value, value.item_lines, strict=True):
            path = folder / str(name)
            if not isinstance(name, str) or not self.inside(path, folder) or name.startswith("/"):
                self.report(
                    file, line, f"data file {name!r} must be a path inside the exercise folder"
                )
                ok = False
            elif not path.is_file():
                self.report(file, line, f"data file {name!r} does not exist in {self.rel(folder)}/")
                ok = False
            elif name in files:
                self.report(file, line, f"data file {name!r} is listed twice")
                ok = False
            else:
                files[Path(name).as_posix()] = path.read_bytes()
        return files if ok else None

    def exercise_notebook(
        self, data: LineDict, folder: Path, file: str
    ) -> tuple[str, str | None, list[Any]]:
        """The source notebook named by exercise.yml, and its grade cells."""
        name = self.text(data, "notebook", file, "exercise.yml")
        if name is None:
            return "", None, []
        line = data.key_lines["notebook"]
        path = folder / name
        if not name.endswith(".ipynb") or "/" in name or "\\" in name:
            self.report(file, line, f"notebook {name!r} must be an .ipynb file in this folder")
            return name, None, []
        if not path.is_file():
            self.report(file, line, f"notebook {name!r} does not exist in {self.rel(folder)}/")
            return name, None, []
        nb_file = self.rel(path)
        try:
            source_json = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            self.report(nb_file, None, "the notebook is not UTF-8 text")
            return name, None, []
        try:
            grade_cells = grade_cells_of(source_json)
        except NotebookProblem as exc:
            self.report(nb_file, exc.line, f"invalid nbgrader source notebook: {exc.message}")
            return name, None, []
        return name, source_json, grade_cells

    def exercise_skills(
        self,
        data: LineDict,
        file: str,
        source_json: str | None,
        grade_cells: list[Any],
        skill_ids: set[str],
    ) -> dict[str, list[str]] | None:
        """grade_id -> skill ids, from exercise.yml and the cells' `metadata.atlas.skills`."""
        mapping: dict[str, list[str]] = {}
        lines: dict[str, int] = {}
        ok = True
        value = data.get("skills")
        if "skills" in data and not isinstance(value, LineDict):
            self.report(file, data.key_lines["skills"], "'skills' must map grade_id: [skill ids]")
            return None
        if isinstance(value, LineDict):
            for key, line in value.duplicates:
                self.report(file, line, f"grade_id {key!r} appears twice under 'skills'")
                ok = False
            for grade_id, ids in value.items():
                line = value.key_lines[grade_id]
                if isinstance(ids, str):
                    ids = [ids]
                if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                    self.report(file, line, f"skills of {grade_id!r} must be a list of skill ids")
                    ok = False
                    continue
                mapping[str(grade_id)] = list(ids)
                lines[str(grade_id)] = line
        if source_json is None:
            return None
        nb_file = file.rsplit("/", 1)[0] + "/" + str(data.get("notebook"))
        for grade_id, ids in _cell_skills(source_json).items():
            merged = mapping.setdefault(grade_id, [])
            merged.extend(i for i in ids if i not in merged)
        known_cells = {cell.grade_id for cell in grade_cells}
        for grade_id, line in lines.items():
            if grade_id not in known_cells:
                self.report(
                    file,
                    line,
                    f"'skills' maps {grade_id!r}, which is not a grade cell of the notebook "
                    f"(grade cells: {', '.join(sorted(known_cells)) or 'none'})",
                )
                ok = False
        for grade_id, ids in mapping.items():
            for skill in ids:
                if skill not in skill_ids:
                    self.report(
                        file if grade_id in lines else nb_file,
                        lines.get(grade_id) or line_of_grade_id(source_json, grade_id),
                        f"grade cell {grade_id!r}: unknown skill {skill!r}; "
                        "define it in courses/skills.yml",
                    )
                    ok = False
        for cell in grade_cells:
            if not mapping.get(cell.grade_id):
                self.report(
                    file,
                    value.line if isinstance(value, LineDict) else data.line,
                    f"grade cell {cell.grade_id!r} is not mapped to any skill; add "
                    f"'{cell.grade_id}: [skill-id]' under 'skills'",
                )
                ok = False
        return {k: v for k, v in mapping.items() if k in known_cells} if ok else None

    def inside(self, path: Path, folder: Path) -> bool:
        """Whether `path` stays inside `folder` (no `..` escape)."""
        try:
            path.resolve().relative_to(folder.resolve())
        except ValueError:
            return False
        return True

    # -- courses ---------------------------------------------------------------------------

    def load_courses(
        self, courses_dir: Path, exercises_dir: Path, exercise_slugs: set[str]
    ) -> list[Course]:
        """Every courses/<slug>/course.yml, sorted by slug."""
        courses: list[Course] = []
        if not courses_dir.is_dir():
            return courses
        for folder in sorted(p for p in courses_dir.iterdir() if p.is_dir()):
            if folder.name in IGNORED_DIRS or folder.name.startswith("."):
                continue
            course = self.load_course(folder, exercises_dir, exercise_slugs)
            if course is not None:
                courses.append(course)
        return courses

    def load_course(
        self, folder: Path, exercises_dir: Path, exercise_slugs: set[str]
    ) -> Course | None:
        """One course folder."""
        yml = folder / "course.yml"
        file = self.rel(yml)
        data = self.read_yaml(yml, "course.yml")
        if data is None:
            return None
        what = "course.yml"
        self.check_keys(
            data,
            file,
            what,
            {"slug", "title", "track", "language", "summary", "modules"},
            {"title_fr", "summary_fr"},
        )
        slug = self.slug(data, "slug", file, what)
        if slug is not None and slug != folder.name:
            self.report(
                file,
                data.key_lines["slug"],
                f"slug {slug!r} must equal the folder name {folder.name!r}",
            )
            slug = None
        title = self.text(data, "title", file, what)
        title_fr = self.text(data, "title_fr", file, what)
        track = self.choice(data, "track", TRACKS, file, what)
        language = self.choice(data, "language", LANGUAGES, file, what)
        summary = self.text(data, "summary", file, what)
        summary_fr = self.text(data, "summary_fr", file, what)
        modules: list[Module] = []
        if "modules" in data:
            entries = self.mapping_items(
                data["modules"], file, data.key_lines["modules"], "modules"
            )
            if not entries and isinstance(data["modules"], LineList):
                self.report(file, data.key_lines["modules"], "a course needs at least one module")
            seen_modules: dict[str, int] = {}
            seen_lessons: dict[str, int] = {}
            for entry in entries:
                module_slug = entry.get("slug")
                duplicate = isinstance(module_slug, str) and module_slug in seen_modules
                if duplicate:
                    self.report(
                        file,
                        entry.key_lines["slug"],
                        f"module slug {module_slug!r} is already used at line "
                        f"{seen_modules[module_slug]}; module slugs are unique within a course",
                    )
                elif isinstance(module_slug, str):
                    seen_modules[module_slug] = entry.key_lines["slug"]
                module = self.load_module(
                    entry, folder, file, exercises_dir, exercise_slugs, seen_lessons
                )
                if module is not None and not duplicate:
                    modules.append(module)
        if None in (slug, title, track, language, summary) or "modules" not in data:
            return None
        return Course(
            slug=slug,
            title=title,
            title_fr=title_fr,
            track=track,
            language=language,
            summary=summary,
            summary_fr=summary_fr,
            modules=modules,
        )

    def load_module(
        self,
        entry: LineDict,
        folder: Path,
        file: str,
        exercises_dir: Path,
        exercise_slugs: set[str],
        seen_lessons: dict[str, int],
    ) -> Module | None:
        """One module of a course.yml."""
        what = f"module {entry.get('slug', '?')!r}"
        self.check_keys(entry, file, what, {"slug", "title"}, {"title_fr", "lessons", "exercises"})
        slug = self.slug(entry, "slug", file, what)
        title = self.text(entry, "title", file, what)
        title_fr = self.text(entry, "title_fr", file, what)
        lessons: list[Lesson] = []
        exercises: list[str] = []
        ok = True
        for key in ("lessons", "exercises"):
            value = entry.get(key, LineList())
            if key in entry and (
                not isinstance(value, LineList) or not all(isinstance(v, str) for v in value)
            ):
                self.report(file, entry.key_lines[key], f"{what}: {key!r} must be a list of names")
                ok = False
        if not ok:
            return None
        if not entry.get("lessons") and not entry.get("exercises"):
            self.report(file, entry.line, f"{what} needs at least one lesson or exercise")
            return None
        lesson_list = entry.get("lessons", LineList())
        for name, line in zip(lesson_list, getattr(lesson_list, "item_lines", []), strict=True):
            lesson = self.load_lesson(folder, name, file, line)
            if lesson is None:
                ok = False
                continue
            if lesson.slug in seen_lessons:
                self.report(
                    file,
                    line,
                    f"lesson {lesson.slug!r} is already used at line {seen_lessons[lesson.slug]}",
                )
                ok = False
                continue
            seen_lessons[lesson.slug] = line
            lessons.append(lesson)
        exercise_list = entry.get("exercises", LineList())
        for name, line in zip(exercise_list, getattr(exercise_list, "item_lines", []), strict=True):
            if name in exercises:
                self.report(file, line, f"{what}: exercise {name!r} is listed twice")
                ok = False
            elif name not in exercise_slugs:
                if (exercises_dir / name).is_dir():
                    # The exercise folder exists but is invalid: its own problems say why.
                    ok = False
                else:
                    self.report(
                        file,
                        line,
                        f"{what}: exercise {name!r} does not exist; expected a folder "
                        f"exercises/{name}/ with an exercise.yml",
                    )
                    ok = False
            else:
                exercises.append(name)
        if not ok or slug is None or title is None:
            return None
        return Module(
            slug=slug, title=title, title_fr=title_fr, lessons=lessons, exercises=exercises
        )

    def load_lesson(self, folder: Path, name: str, file: str, line: int) -> Lesson | None:
        """One Markdown lesson and its optional French sibling (`.fr.md`)."""
        path = folder / name
        if not name.endswith(".md") or name.endswith(".fr.md") or not self.inside(path, folder):
            self.report(
                file,
                line,
                f"lesson {name!r} must be a .md file inside the course folder "
                "(French versions are found automatically as .fr.md siblings)",
            )
            return None
        if not path.is_file():
            self.report(file, line, f"lesson {name!r} does not exist in {self.rel(folder)}/")
            return None
        markdown = self.read_markdown(path)
        if markdown is None:
            return None
        title = self.lesson_title(path, markdown)
        fr_path = path.with_name(path.name[: -len(".md")] + ".fr.md")
        markdown_fr = title_fr = None
        if fr_path.is_file():
            markdown_fr = self.read_markdown(fr_path)
            if markdown_fr is None:
                return None
            title_fr = self.lesson_title(fr_path, markdown_fr)
            if title_fr is None:
                return None
        if title is None:
            return None
        return Lesson(
            slug=path.name[: -len(".md")],
            title=title,
            title_fr=title_fr,
            markdown=markdown,
            markdown_fr=markdown_fr,
            path=self.rel(path),
        )

    def read_markdown(self, path: Path) -> str | None:
        """A lesson's text (UTF-8)."""
        try:
            return path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            self.report(self.rel(path), None, "not UTF-8 text: save the lesson as UTF-8")
            return None

    def lesson_title(self, path: Path, markdown: str) -> str | None:
        """The first `# Heading` of a lesson."""
        tokens = _MARKDOWN.parse(markdown)
        for index, token in enumerate(tokens):
            if token.type == "heading_open" and token.tag == "h1":
                title = tokens[index + 1].content.strip()
                if title:
                    return title
        self.report(self.rel(path), 1, "a lesson needs a '# Title' heading (its title)")
        return None


_MARKDOWN = MarkdownIt("commonmark")


def _cell_skills(source_json: str) -> dict[str, list[str]]:
    """grade_id -> skills from the cells' `metadata.atlas.skills` (the other place to map them)."""
    try:
        cells = json.loads(source_json).get("cells", [])
    except (json.JSONDecodeError, AttributeError):
        return {}
    found: dict[str, list[str]] = {}
    for cell in cells:
        meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
        grade_id = (meta.get("nbgrader") or {}).get("grade_id")
        skills = (meta.get("atlas") or {}).get("skills")
        if grade_id and isinstance(skills, list):
            found[grade_id] = [str(s) for s in skills]
    return found
