"""Loading exercises/<slug>/: exercise.yml, the nbgrader source notebook and its data files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from grading import cells
from lms.content.fields import SLUG, Reporter
from lms.content.model import EXERCISE_KINDS, Exercise, Variant
from lms.content.notebook import NotebookProblem, grade_cells_of, line_of_grade_id
from lms.content.translations import check_translation, translated_notebook
from lms.content.yaml_lines import LineDict, LineList

DEFAULT_TIMEOUT = 30.0  # seconds per cell, as nbgrader


class ExerciseLoader(Reporter):
    """Every exercise folder, each checked against the skill taxonomy."""

    def load_exercises(self, exercises_dir: Path, skill_ids: set[str]) -> dict[str, Exercise]:
        """Every folder of exercises/, sorted by slug."""
        exercises: dict[str, Exercise] = {}
        for folder in self.content_folders(exercises_dir):
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
            {"title_fr", "files", "timeout", "retake_after_days", "variants"},
        )
        title = self.text(data, "title", file, what)
        title_fr = self.text(data, "title_fr", file, what)
        kind = self.choice(data, "kind", EXERCISE_KINDS, file, what)
        timeout = DEFAULT_TIMEOUT
        if "timeout" in data:
            timeout = self.number(data, "timeout", file, what, low=0.0, low_inclusive=False)
        retake: float | None = None
        if "retake_after_days" in data:
            # An assessment may be retaken (and the retake count) after this many days.
            retake = self.number(data, "retake_after_days", file, what, low=0.0)
            if retake is not None and kind != "assessment":
                self.report(
                    file,
                    data.key_lines["retake_after_days"],
                    "'retake_after_days' is for assessments only: practice can be redone freely",
                )
                return None
            if retake is None:
                return None
        files = self.exercise_files(data, folder, file)
        notebook_name, source_json, grade_cells = self.exercise_notebook(data, folder, file)
        skills = self.exercise_skills(data, file, source_json, grade_cells, skill_ids)
        if None in (title, kind, timeout, files, source_json, skills):
            return None
        source_fr_json = self.french_notebook(folder, notebook_name, source_json)
        if source_fr_json is False:
            return None
        variants = self.exercise_variants(
            data, folder, file, kind, (notebook_name, source_json, source_fr_json), grade_cells
        )
        if variants is None:
            return None
        return Exercise(
            slug=slug,
            title=title,
            title_fr=title_fr,
            kind=kind,
            notebook_name=notebook_name,
            source_json=source_json,
            source_fr_json=source_fr_json,
            files=files,
            timeout=timeout,
            retake_after_days=retake,
            skills=skills,
            grade_cells=grade_cells,
            variants=variants,
        )

    def exercise_variants(
        self,
        data: LineDict,
        folder: Path,
        file: str,
        kind: str | None,
        first: tuple[str, str, str | None],
        grade_cells: list[Any],
    ) -> list[Variant] | None:
        """An assessment's variant pool: `variants` lists the other notebooks of the folder
        (each with its own `<stem>.fr.yml`), which must have exactly the grade cells of
        `notebook` (same ids, kinds and points) and be translated when it is. [] when the
        exercise has no `variants`; None when one is wrong (each problem reported)."""
        if "variants" not in data:
            return []
        line = data.key_lines["variants"]
        value = data["variants"]
        if kind != "assessment":
            self.report(
                file, line, "'variants' is for assessments only: practice has a single notebook"
            )
            return None
        if not isinstance(value, LineList) or not value:
            self.report(file, line, "'variants' must be a non-empty list of notebook file names")
            return None
        name, source_json, source_fr_json = first
        found = [Variant(key=name, source_json=source_json, source_fr_json=source_fr_json)]
        wanted = [(c.grade_id, c.kind, float(c.max_score)) for c in grade_cells]
        ok = True
        for entry, entry_line in zip(value, value.item_lines, strict=True):
            entry = str(entry)
            if entry in (v.key for v in found):
                self.report(file, entry_line, f"variant {entry!r} is listed twice")
                ok = False
                continue
            path = folder / entry
            if not entry.endswith(".ipynb") or "/" in entry or "\\" in entry:
                self.report(file, entry_line, f"variant {entry!r} must be an .ipynb in this folder")
                ok = False
                continue
            if not path.is_file():
                self.report(
                    file, entry_line, f"variant {entry!r} does not exist in {self.rel(folder)}/"
                )
                ok = False
                continue
            variant_json = path.read_text(encoding="utf-8")
            try:
                cells_of = grade_cells_of(variant_json)
            except NotebookProblem as exc:
                self.report(self.rel(path), exc.line, f"invalid nbgrader source: {exc.message}")
                ok = False
                continue
            got = [(c.grade_id, c.kind, float(c.max_score)) for c in cells_of]
            if got != wanted:
                self.report(
                    file,
                    entry_line,
                    f"variant {entry!r} must have the grade cells of {name!r} (same grade ids, "
                    f"kinds and points, in order): it has {got}, {name!r} has {wanted}",
                )
                ok = False
                continue
            variant_fr = self.french_notebook(folder, entry, variant_json)
            if variant_fr is False:
                ok = False
                continue
            if (variant_fr is None) != (source_fr_json is None):
                self.report(
                    file,
                    entry_line,
                    f"variant {entry!r} and {name!r} must be in the same languages: translate "
                    "both (<stem>.fr.yml) or neither",
                )
                ok = False
                continue
            found.append(Variant(key=entry, source_json=variant_json, source_fr_json=variant_fr))
        return found if ok else None

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

    def french_notebook(self, folder: Path, notebook_name: str, source_json: str) -> str | None:
        """The French source notebook, from `<stem>.fr.yml` beside the notebook; None when there
        is no translation, False when the translation is wrong (each problem reported)."""
        path = folder / (Path(notebook_name).stem + ".fr.yml")
        if not path.is_file():
            return None
        data = self.read_yaml(path, "translation")
        if data is None:
            return False
        file = self.rel(path)
        problems = check_translation(source_json, data)
        for problem in problems:
            self.report(file, data.key_lines.get(problem.key, data.line), problem.message)
        for key, line in data.duplicates:
            self.report(file, line, f"cell {key!r} is translated twice")
        if problems or data.duplicates:
            return False
        return translated_notebook(source_json, {str(k): str(v) for k, v in data.items()})

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


def _cell_skills(source_json: str) -> dict[str, list[str]]:
    """grade_id -> skills from the cells' `metadata.atlas.skills` (the other place to map them)."""
    try:
        notebook_cells = json.loads(source_json).get("cells", [])
    except (json.JSONDecodeError, AttributeError):
        return {}
    found: dict[str, list[str]] = {}
    for cell in notebook_cells:
        meta = cell.get("metadata") if isinstance(cell, dict) else None
        atlas = meta.get("atlas") if isinstance(meta, dict) else None
        grade_id = cells.grade_id(cell)
        skills = atlas.get("skills") if isinstance(atlas, dict) else None
        if grade_id and isinstance(skills, list):
            found[grade_id] = [str(s) for s in skills]
    return found
