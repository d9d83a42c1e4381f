"""Loading courses/<slug>/: course.yml, its modules and Markdown lessons (with French siblings)."""

from __future__ import annotations

from pathlib import Path

from markdown_it import MarkdownIt

from lms.content.fields import Reporter
from lms.content.model import LANGUAGES, TRACKS, Course, Lesson, Module
from lms.content.yaml_lines import LineDict, LineList

_MARKDOWN = MarkdownIt("commonmark")


class CourseLoader(Reporter):
    """Every course folder, each checked against the loaded exercises."""

    def load_courses(
        self, courses_dir: Path, exercises_dir: Path, exercise_slugs: set[str]
    ) -> list[Course]:
        """Every courses/<slug>/course.yml, by `order` then slug."""
        courses: list[Course] = []
        for folder in self.content_folders(courses_dir):
            course = self.load_course(folder, exercises_dir, exercise_slugs)
            if course is not None:
                courses.append(course)
        return sorted(courses, key=lambda course: (course.order, course.slug))

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
            {"title_fr", "summary_fr", "order"},
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
        order = self.number(data, "order", file, what, low=0)
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
            order=100 if order is None else order,
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
