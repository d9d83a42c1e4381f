"""What trainees get: `nbgrader generate_assignment` for one notebook, or a folder with data."""

from __future__ import annotations

import fnmatch
import shutil
from pathlib import Path

import nbformat

from grading.exercise import SourceError, prepare_exercise

# nbgrader's CourseDirectory.ignore default: never copied into a release
IGNORED = (".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback")


def release_notebook(source_json: str, header_json: str | None = None) -> str:
    """The released notebook (JSON text) for an nbgrader source notebook, as generate_assignment
    writes it: solutions replaced by stubs, hidden tests and mark schemes removed, cells locked,
    checksums set; `header_json` is prepended like nbgrader's IncludeHeaderFooter.header."""
    exercise = prepare_exercise(source_json, header_json)
    return nbformat.writes(exercise.release) + "\n"


def _ignored(path: Path, root: Path) -> bool:
    return any(
        fnmatch.fnmatch(part, pattern)
        for part in path.relative_to(root).parts
        for pattern in IGNORED
    )


def _data_files(root: Path) -> list[Path]:
    """The files under `root` nbgrader copies beside a notebook: not notebooks, not ignored."""
    return [
        path
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.suffix != ".ipynb" and not _ignored(path, root)
    ]


def release_folder(src: Path, dst: Path, header_json: str | None = None) -> list[Path]:
    """Release every notebook under `src` into `dst` (same relative paths) and copy the other
    files beside them; returns the released notebooks. Raises SourceError for a bad notebook,
    naming it, before anything is written."""
    src, dst = Path(src), Path(dst)
    notebooks = sorted(p for p in src.rglob("*.ipynb") if not _ignored(p, src))
    released = {}
    for path in notebooks:
        try:
            released[path] = release_notebook(path.read_text(encoding="utf-8"), header_json)
        except UnicodeDecodeError:
            raise SourceError(f"{path}: not a notebook (not UTF-8 text)") from None
        except SourceError as exc:
            raise SourceError(f"{path}: {exc}") from exc
    written = []
    for path, text in released.items():
        target = dst / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        written.append(target)
    for path in _data_files(src):
        target = dst / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return written


def exercise_files(folder: Path, max_total_bytes: int = 256 * 1024 * 1024) -> dict[str, bytes]:
    """The data files of an exercise folder (everything but notebooks and nbgrader's ignored
    names), by relative path: what nbgrader copies beside each notebook it grades. Raises
    ValueError when they add up to more than `max_total_bytes` (not an exercise folder)."""
    folder = Path(folder)
    paths = _data_files(folder)
    total = sum(path.stat().st_size for path in paths)
    if total > max_total_bytes:
        raise ValueError(
            f"{folder} holds {total} bytes of files, more than the {max_total_bytes} an exercise "
            "may have: point to the exercise's own folder"
        )
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in paths}
