"""A submitted (or executed) notebook as a grader reads it: cells, grade ids and outputs, safe."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from grading import cells
from lms.web.rendering import highlight_code, render_markdown

MAX_OUTPUT_CHARS = 20_000
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_IMAGE_TYPES = ("image/png", "image/jpeg")


@dataclass(frozen=True)
class ReviewCell:
    """One cell of the notebook: its rendered source, its outputs, its nbgrader role."""

    position: int
    cell_type: str
    grade_id: str | None
    role: str  # answer | test | task | text | code
    html: Markup
    outputs: tuple[Markup, ...]


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def _role(cell: dict[str, Any]) -> str:
    if cells.is_task(cell):
        return "task"
    if cells.is_solution(cell):
        return "answer"
    if cells.is_grade(cell):
        return "test"
    return ""


def _output_html(output: dict[str, Any]) -> Markup | None:
    kind = output.get("output_type")
    if kind == "stream":
        text = _text(output.get("text"))
    elif kind == "error":
        text = _ANSI.sub("", "\n".join(_text(line) for line in output.get("traceback") or []))
        text = text or f"{output.get('ename', '')}: {output.get('evalue', '')}"
    elif kind in ("execute_result", "display_data"):
        data = output.get("data") or {}
        for mime in _IMAGE_TYPES:
            if mime in data:
                return _image_html(mime, _text(data[mime]))
        text = _text(data.get("text/plain"))
    else:
        return None
    if len(text) > MAX_OUTPUT_CHARS:
        text = text[:MAX_OUTPUT_CHARS] + "\n…"
    return Markup(f'<pre class="output">{escape(text)}</pre>')


def _image_html(mime: str, payload: str) -> Markup | None:
    # Trainee code chose these bytes: only well-formed base64 goes into the data: URL.
    compact = "".join(payload.split())
    try:
        base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None
    return Markup(f'<img class="output" alt="" src="data:{mime};base64,{compact}">')


def review_cells(notebook: dict[str, Any]) -> list[ReviewCell]:
    """Every cell of `notebook`, its source highlighted or rendered, with its text outputs."""
    language = ((notebook.get("metadata") or {}).get("language_info") or {}).get("name")
    found = []
    for position, cell in enumerate(notebook.get("cells") or [], 1):
        if not isinstance(cell, dict):
            continue
        source = _text(cell.get("source"))
        cell_type = cell.get("cell_type", "code")
        if cell_type == "markdown":
            html = render_markdown(source)
        else:
            html = highlight_code(source, language or "python")
        outputs = tuple(
            rendered
            for output in (cell.get("outputs") or [])
            if isinstance(output, dict) and (rendered := _output_html(output)) is not None
        )
        role = _role(cell) or ("text" if cell_type == "markdown" else "code")
        found.append(ReviewCell(position, cell_type, cells.grade_id(cell), role, html, outputs))
    return found
