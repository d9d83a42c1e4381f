"""Turning the bytes a trainee submitted into a notebook, or into a sentence saying what is wrong.

A bad file is an answer, not a crash: every way a file can fail to be this exercise's notebook
raises `Rejected` with a message written for the trainee (what is wrong, what to do).
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from nbformat import validator
from nbformat.notebooknode import NotebookNode
from nbformat.v4 import nbjson

from grading import cells
from grading.exercise import Exercise

DEFAULT_MAX_SUBMISSION_BYTES = 50 * 1024 * 1024
_CELL_ID = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")
_AGAIN = "Download the exercise notebook again, copy your answers into it and submit that file."


class Rejected(Exception):
    """The submission is not a gradable notebook for this exercise; `str(exc)` tells the trainee."""


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _parse_json(data: bytes, max_bytes: int) -> Any:
    if len(data) == 0:
        raise Rejected(
            "The file you submitted is empty (0 bytes). Save your notebook in Jupyter "
            "(File > Save) and submit the .ipynb file again."
        )
    if len(data) > max_bytes:
        raise Rejected(
            f"The file is {_megabytes(len(data))}, more than the {_megabytes(max_bytes)} allowed. "
            "Clear the outputs (Kernel > Restart Kernel and Clear All Outputs), save, and "
            "submit again."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Rejected(
            "The file is not a Jupyter notebook (it is not text at all: perhaps a PDF, an image "
            "or a zip). Submit the .ipynb file you saved from Jupyter."
        ) from None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise Rejected(
            "The file is not a Jupyter notebook: its content is not valid notebook JSON (was it "
            "exported, renamed or cut short?). Submit the .ipynb file you saved from Jupyter."
        ) from None


def _check_format(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict) or "nbformat" not in raw:
        raise Rejected(
            "The file is JSON but not a Jupyter notebook. Submit the exercise's .ipynb file."
        )
    version = raw["nbformat"]
    if version in (1, 2, 3):
        raise Rejected(
            f"The notebook uses the old notebook format {version}, which cannot be graded. "
            + _AGAIN
        )
    if version != 4:
        raise Rejected(
            f"The notebook declares format {version!r}, which is not Jupyter's format 4. " + _AGAIN
        )
    if not isinstance(raw.get("cells"), list):
        raise Rejected("The notebook file is damaged: it has no list of cells. " + _AGAIN)
    return raw


def _drop_outputs_and_fix_ids(raw: dict[str, Any]) -> None:
    """Outputs are cleared before grading anyway (nbgrader's ClearOutput), so a damaged output
    must not cost a trainee the grade; cell ids are repaired as nbformat's `normalize` would."""
    minor = raw.get("nbformat_minor")
    seen: set[str] = set()
    for cell in raw["cells"]:
        if not isinstance(cell, dict):
            continue
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        if isinstance(minor, int) and minor >= 5:
            cell_id = cell.get("id")
            if not isinstance(cell_id, str) or cell_id in seen or not _CELL_ID.match(cell_id):
                cell_id = uuid.uuid4().hex[:8]
                cell["id"] = cell_id
            seen.add(cell_id)


def _validate(raw: dict[str, Any]) -> NotebookNode:
    nb = nbjson.JSONReader().to_notebook(raw)
    try:
        validator.validate(nb)
    except validator.ValidationError as exc:
        where = "/".join(str(p) for p in list(getattr(exc, "absolute_path", []))[:2]) or "file"
        raise Rejected(
            f"The notebook file is damaged and cannot be read (problem at {where}). " + _AGAIN
        ) from None
    return nb


def _check_exercise(nb: NotebookNode, exercise: Exercise) -> None:
    if not cells.is_for_exercise(nb.cells, exercise.source_cells):
        raise Rejected(
            "This notebook is not the one for this exercise: it has none of the exercise's "
            "cells. Check that you picked the right file (the notebook you downloaded for this "
            "exercise, with your answers in it)."
        )


def read_submission(
    data: bytes, exercise: Exercise, max_bytes: int = DEFAULT_MAX_SUBMISSION_BYTES
) -> NotebookNode:
    """The submitted notebook, outputs cleared; raise Rejected (a sentence for the trainee) when
    the bytes are not a notebook for this exercise."""
    raw = _check_format(_parse_json(data, max_bytes))
    _drop_outputs_and_fix_ids(raw)
    nb = _validate(raw)
    _check_exercise(nb, exercise)
    return nb
