"""The French notebook of an exercise: its markdown cells translated, its code untouched.

An exercise's French text lives beside its notebook in `<notebook stem>.fr.yml`, one entry per
markdown cell, keyed by the cell's nbformat id (the model answers of manually graded questions,
which trainees never see, may be left out):

    06fc0ec0: |
      # Échauffement Python
      ...

The French notebook is the English source with those cells' text replaced, and
`metadata.atlas.language: fr` set on the notebook, which is how the grader knows which source a
submission was released from (lms.services.grading_jobs). Code cells are never translated: both
languages run the same code against the same tests, so a trainee's grade cannot depend on the
language they chose (`lms check-content` grades both to prove it).

Written by hand: Babel's catalogues translate strings of the application, not documents, and a
second copy of each notebook would let its code drift from the first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from grading.cells import is_solution

LANGUAGE_KEY = "language"


@dataclass(frozen=True)
class TranslationProblem:
    """One thing wrong with a notebook's translation: the cell concerned (if any) and what."""

    key: Any  # the key as written in the translation file, or a markdown cell id it lacks
    message: str


def markdown_cells(source_json: str, *, answers: bool = True) -> dict[str, str]:
    """Cell id -> text of every markdown cell of a notebook, in order; without the answer cells
    (the model answers of manually graded questions) when `answers` is false."""
    found = {}
    for cell in json.loads(source_json).get("cells", []):
        if cell.get("cell_type") != "markdown" or not isinstance(cell.get("id"), str):
            continue
        if answers or not is_solution(cell):
            source = cell.get("source", "")
            found[cell["id"]] = "".join(source) if isinstance(source, list) else str(source)
    return found


def check_translation(source_json: str, texts: dict[Any, Any]) -> list[TranslationProblem]:
    """What keeps `texts` from being a complete translation of the notebook's markdown cells."""
    cells = markdown_cells(source_json)
    problems = []
    for key, value in texts.items():
        if not isinstance(key, str):
            problems.append(
                TranslationProblem(
                    key, f"YAML read the cell id {key!r} as a number: put it in quotes ('{key}':)"
                )
            )
        elif key not in cells:
            problems.append(
                TranslationProblem(
                    key,
                    f"{key!r} is not the id of a markdown cell of the notebook "
                    f"(markdown cells: {', '.join(cells) or 'none'})",
                )
            )
        elif not isinstance(value, str) or not value.strip():
            problems.append(TranslationProblem(key, "the French text must be a non-empty text"))
    # Every text a trainee reads must be French; a model answer, which only staff read, may stay
    # in the language it was written in.
    for cell_id, text in markdown_cells(source_json, answers=False).items():
        if text.strip() and cell_id not in texts:
            first = text.strip().splitlines()[0][:60]
            problems.append(
                TranslationProblem(
                    cell_id, f"markdown cell {cell_id!r} ({first!r}) has no French text"
                )
            )
    return problems


def translated_notebook(source_json: str, texts: dict[str, str], language: str = "fr") -> str:
    """The notebook with its markdown cells' text from `texts`, marked as `language`."""
    notebook = json.loads(source_json)
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "markdown" and cell.get("id") in texts:
            cell["source"] = texts[cell["id"]].rstrip("\n").splitlines(keepends=True)
    notebook.setdefault("metadata", {}).setdefault("atlas", {})[LANGUAGE_KEY] = language
    return json.dumps(notebook, ensure_ascii=False, indent=1) + "\n"


def notebook_language(data: bytes) -> str | None:
    """The language a notebook says it was released in (`metadata.atlas.language`), if any.

    Any notebook can say anything here; that is harmless, since both languages' sources grade the
    same code the same way. Unreadable bytes have no language (the grader rejects them later).
    """
    try:
        atlas = json.loads(data).get("metadata", {}).get("atlas", {})
    except (ValueError, RecursionError, AttributeError):
        return None
    value = atlas.get(LANGUAGE_KEY) if isinstance(atlas, dict) else None
    return value if isinstance(value, str) else None
