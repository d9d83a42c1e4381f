"""Trainee notebooks: checking an upload is a notebook for this exercise, and building one from
answers typed in the browser."""

from __future__ import annotations

import json
from typing import Any

from grading import cells
from lms.errors import Invalid
from lms.i18n import N_


class NotebookRejected(Invalid):
    """The file is not a notebook we can accept; the message says why and what to do."""


# Jupyter's notebooks nest a handful of levels (outputs' data a few more); a file nested deeper is
# not a notebook, and would exhaust the recursion of whatever reads it next.
MAX_DEPTH = 64


def parse_notebook(data: bytes) -> dict[str, Any]:
    """The notebook in `data` as a dict, or NotebookRejected explaining what is wrong."""
    too_deep = False
    try:
        notebook = json.loads(data.decode("utf-8"))
    except RecursionError:
        notebook, too_deep = None, True  # nested beyond what Python parses: refused below
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise NotebookRejected(
            N_(
                "This file is not a Jupyter notebook (it is not JSON text). "
                "Upload the .ipynb file you saved from Jupyter."
            )
        ) from None
    if too_deep or _nesting(notebook) > MAX_DEPTH:
        raise NotebookRejected(
            N_(
                "This file is nested more than %(n)s levels deep: it is not a Jupyter "
                "notebook. Upload the .ipynb file you saved from Jupyter."
            ),
            n=MAX_DEPTH,
        )
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise NotebookRejected(
            N_("This file is JSON but not a Jupyter notebook (it has no cells).")
        )
    if notebook.get("nbformat") != 4:
        raise NotebookRejected(
            N_(
                "Only notebooks in format version 4 are accepted; "
                "open and save it in a recent Jupyter."
            )
        )
    for number, cell in enumerate(notebook["cells"], start=1):
        if not _well_formed(cell):
            raise NotebookRejected(
                N_(
                    "Cell %(n)s of this notebook is malformed (a cell has a type, a text source "
                    "and metadata; nbgrader's grade_id is text). Open and save the notebook in "
                    "Jupyter, or download the exercise notebook again."
                ),
                n=number,
            )
    return notebook


def _nesting(value: Any) -> int:
    """How deep lists and dicts nest in parsed JSON (iteratively: no recursion to exhaust)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _well_formed(cell: Any) -> bool:
    """Whether a cell has the shape every reader of it relies on."""
    if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
        return False
    source = cell.get("source", "")
    if not (
        isinstance(source, str)
        or (isinstance(source, list) and all(isinstance(line, str) for line in source))
    ):
        return False
    metadata = cell.get("metadata", {})
    if not isinstance(metadata, dict):
        return False
    nbgrader = metadata.get("nbgrader", {})
    if not isinstance(nbgrader, dict):
        return False
    grade_id = nbgrader.get("grade_id")
    return grade_id is None or isinstance(grade_id, str)


def check_belongs_to(notebook: dict[str, Any], release: dict[str, Any], title: str) -> None:
    """Refuse a notebook that shares no graded cell with the exercise's release notebook."""
    if not cells.is_for_exercise(notebook["cells"], cells.grade_ids(release["cells"])):
        raise NotebookRejected(
            N_(
                "This notebook is not the one for “%(title)s”: none of its cells belong to "
                "this exercise. Download the exercise notebook from this page, answer it, "
                "and upload it."
            ),
            title=title,
        )


def fill_answers(release: dict[str, Any], answers: dict[str, str]) -> bytes:
    """The release notebook with the answer cells' sources replaced by `answers` (grade id ->
    source), serialised as Jupyter writes it."""
    notebook = json.loads(json.dumps(release))
    for cell in notebook["cells"]:
        if cells.is_answer(cell) and (grade_id := cells.grade_id(cell)) in answers:
            cell["source"] = answers[grade_id].replace("\r\n", "\n")
            if cell["cell_type"] == "code":
                cell["outputs"], cell["execution_count"] = [], None
    return (json.dumps(notebook, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
