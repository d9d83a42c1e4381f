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


def parse_notebook(data: bytes) -> dict[str, Any]:
    """The notebook in `data` as a dict, or NotebookRejected explaining what is wrong."""
    try:
        notebook = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise NotebookRejected(
            N_(
                "This file is not a Jupyter notebook (it is not JSON text). "
                "Upload the .ipynb file you saved from Jupyter."
            )
        ) from None
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
    return notebook


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

