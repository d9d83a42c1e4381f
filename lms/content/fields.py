"""Shared plumbing of the content loaders: where a problem is, and reading checked values.

A `Reporter` collects problems (file relative to the content root, line, message) instead of
stopping at the first, so an author fixes everything in one pass. Its readers check one value of a
YAML mapping each and return None (after reporting) when it is wrong.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from lms.content.model import Problem
from lms.content.yaml_lines import LineDict, LineList, YamlSyntaxError, load_yaml_with_lines

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
SKILL_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
# Folders in courses/ and exercises/ that are not content (editor and tool droppings).
IGNORED_DIRS = {"__pycache__", ".ipynb_checkpoints"}


class Reporter:
    """Collects problems for one content root; subclasses load one part of the content."""

    def __init__(self, root: Path, problems: list[Problem]) -> None:
        self.root = root
        self.problems = problems

    def rel(self, path: Path) -> str:
        """The path relative to the content root, with forward slashes."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    def report(self, file: str, line: int | None, message: str) -> None:
        """Record one problem."""
        self.problems.append(Problem(file, line, message))

    def content_folders(self, parent: Path) -> list[Path]:
        """The sub-folders of `parent` that hold content, sorted by name (none if it is absent)."""
        if not parent.is_dir():
            return []
        return sorted(
            path
            for path in parent.iterdir()
            if path.is_dir() and path.name not in IGNORED_DIRS and not path.name.startswith(".")
        )

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

    def slug(
        self, data: LineDict, key: str, file: str, what: str, pattern: re.Pattern[str] = SLUG
    ) -> str | None:
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

    def inside(self, path: Path, folder: Path) -> bool:
        """Whether `path` stays inside `folder` (no `..` escape)."""
        try:
            path.resolve().relative_to(folder.resolve())
        except ValueError:
            return False
        return True
