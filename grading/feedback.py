"""The trainee's feedback page for one graded notebook, like nbgrader's generate_feedback.

It shows the trainee's cells, their outputs (capped) and the result and points of each graded
cell. It never holds hidden test code because of where it comes from, not because of redaction:
it is rendered from a run of the trainee's notebook with the visible tests only (the released
version of each test cell), and refuses any other notebook; the run with hidden tests gives the
points and pass/fail only. Everything is escaped; Markdown is rendered without raw HTML and
cleaned; nothing is loaded from the network. Its words are in the notebook's language
(English or French; grading/wording.py says why they are a table, not a Babel catalogue).
"""

from __future__ import annotations

import copy
import functools
import re
from dataclasses import dataclass
from importlib import resources

import jinja2
import nh3
from markdown_it import MarkdownIt
from nbconvert.filters import strip_ansi
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import ClearHiddenTests, ClearMarkScheme
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from grading.exercise import Exercise
from grading.job import CellResult
from grading.wording import LABELS

MAX_OUTPUT_CHARS = 10_000  # per output
MAX_CELL_CHARS = 40_000  # all outputs of one cell
MAX_IMAGE_BYTES = 1_000_000  # base64 text of one image
MAX_PAGE_OUTPUT_CHARS = 2_000_000  # all outputs of the page, images included
MAX_SOURCE_CHARS = 100_000  # the source of one cell
_BASE64 = re.compile(r"^[A-Za-z0-9+/=\s]+$")

_markdown = MarkdownIt("commonmark", {"html": False})
_environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
_formatter = HtmlFormatter(nowrap=True)


@dataclass(frozen=True)
class _Badge:
    status: str  # passed | partial | failed | manual | task | deleted
    status_text: str
    score: str
    max_score: str


def _points(value: float) -> str:
    return f"{value:g}"


def _badge(result: CellResult, deleted: bool, words: dict[str, str]) -> _Badge:
    if deleted:
        status, text = "deleted", "deleted"
    elif result.kind == "task":
        status, text = "task", "task"
    elif result.needs_manual_grade:
        status, text = "manual", "manual"
    elif result.kind == "manual":
        status, text = ("passed", "graded") if result.score > 0 else ("failed", "no_answer")
    elif result.score >= result.max_score:
        status, text = "passed", "passed"
    elif result.score > 0:
        status, text = "partial", "partial"
    else:
        status, text = "failed", "failed"
    return _Badge(status, words[text], _points(result.score), _points(result.max_score))


class NotVisibleRun(ValueError):
    """The notebook given for feedback holds a test cell that is not its released version."""


def _check_visible_only(nb: NotebookNode, exercise: Exercise) -> None:
    """Every test cell of `nb` must be exactly its released version (no hidden tests)."""
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        info = next((i for i in exercise.grade_cells if i.grade_id == grade_id), None)
        if info is not None and info.kind == "test":
            if cell.source != exercise.release_cells[grade_id].source:
                raise NotVisibleRun(
                    f"feedback must come from a run with the visible tests only; cell "
                    f"'{grade_id}' is not the released version"
                )


def _cap(text: str, limit: int, words: dict[str, str] = LABELS["en"]) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + "\n" + words["truncated"].format(n=len(text) - limit)


def _text(value: object) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _outputs(
    cell: NotebookNode, page_budget: list[int], words: dict[str, str] = LABELS["en"]
) -> list[dict[str, str]]:
    rendered: list[dict[str, str]] = []
    budget = min(MAX_CELL_CHARS, page_budget[0])
    for output in cell.get("outputs", []):
        if budget <= 0:
            rendered.append({"kind": "note", "text": words["more_output"]})
            break
        kind = output.get("output_type")
        if kind == "stream":
            text, css = _text(output.get("text", "")), output.get("name", "stdout")
        elif kind == "error":
            lines = [strip_ansi(_text(t)) for t in output.get("traceback", [])]
            text = "\n".join(lines) or f"{output.get('ename', '')}: {output.get('evalue', '')}"
            css = "error"
        elif kind in ("execute_result", "display_data"):
            data = output.get("data", {})
            image = next((m for m in ("image/png", "image/jpeg") if m in data), None)
            raw = _text(data[image]) if image else ""
            if image and len(raw) <= MAX_IMAGE_BYTES and _BASE64.match(raw):
                src = f"data:{image};base64,{''.join(raw.split())}"
                rendered.append({"kind": "image", "src": src})
                budget -= len(src)
                continue
            # never HTML, SVG or JavaScript from trainee code: their plain-text form only
            text, css = _text(data.get("text/plain", "")), "result"
        else:
            continue
        text = _cap(strip_ansi(text), min(MAX_OUTPUT_CHARS, budget), words)
        budget -= len(text)
        rendered.append({"kind": css, "text": text})
    page_budget[0] -= min(MAX_CELL_CHARS, page_budget[0]) - max(budget, 0)
    return rendered


def render_outputs(outputs: list[dict], budget: int = MAX_CELL_CHARS) -> list[dict[str, str]]:
    """A cell's outputs as the feedback page shows them (capped plain text, errors, PNG/JPEG
    images; never HTML or script): a list of {kind, text} or {kind: "image", src}."""
    return _outputs(NotebookNode(outputs=outputs), [budget])


@functools.cache
def _template() -> jinja2.Template:
    text = resources.files("grading").joinpath("feedback.html").read_text("utf-8")
    return _environment.from_string(text)


def _without_hidden_tests(
    cell: NotebookNode, exercise: Exercise, clearers: tuple[ClearHiddenTests, ClearMarkScheme]
) -> NotebookNode:
    """The cell as the trainee may see it: nbgrader's ClearHiddenTests (and ClearMarkScheme, as
    task cells are restored with their mark scheme) applied again."""
    cell = copy.deepcopy(cell)
    try:
        for clearer in clearers:
            cell, _ = clearer.preprocess_cell(cell, {}, 0)
    except RuntimeError:
        # unbalanced delimiters typed by the trainee: an exercise cell falls back to its release
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in exercise.release_cells:
            cell.source = exercise.release_cells[grade_id].source
    return cell


def render_feedback(
    nb: NotebookNode,
    exercise: Exercise,
    cells: list[CellResult],
    *,
    title: str,
    notes: list[str],
    deleted: set[str],
    language: str = "en",
) -> str:
    """The feedback page (HTML) for a notebook executed with the visible tests only (raises
    NotVisibleRun otherwise); the points in `cells` may come from the run with hidden tests.
    Its words are in `language` (en | fr); `notes` are given already in it."""
    _check_visible_only(nb, exercise)
    words = LABELS.get(language, LABELS["en"])
    results = {c.grade_id: c for c in cells}
    with_hidden = {i.grade_id for i in exercise.grade_cells if i.has_hidden_tests}
    shown = []
    page_budget = [MAX_PAGE_OUTPUT_CHARS]
    clearers = (ClearHiddenTests(enforce_metadata=False), ClearMarkScheme(enforce_metadata=False))
    for index, original in enumerate(nb.cells):
        cell = _without_hidden_tests(original, exercise, clearers)
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        result = results.get(grade_id)
        heading = f"{words['cell']} {index + 1}"
        if grade_id and result is not None:
            heading += f" · {grade_id}"
        if cell.cell_type == "markdown":
            source = _cap(cell.source, MAX_SOURCE_CHARS, words)
            html = nh3.clean(_markdown.render(source), url_schemes={"data"})
            shown.append({"kind": "markdown", "html": html, "heading": heading})
        elif cell.cell_type == "code":
            count = cell.get("execution_count")
            heading += f" · In [{count if count is not None else ' '}]"
            also_hidden = grade_id in with_hidden
            shown.append(
                {
                    "kind": "code",
                    "heading": heading,
                    "html": highlight(
                        _cap(cell.source, MAX_SOURCE_CHARS, words), PythonLexer(), _formatter
                    ),
                    "outputs": _outputs(cell, page_budget, words),
                    "also_hidden": also_hidden,
                }
            )
        else:
            continue
        shown[-1]["result"] = _badge(result, False, words) if result is not None else None

    summary = []
    for result in cells:
        badge = _badge(result, result.grade_id in deleted, words)
        kind = words.get(f"kind:{result.kind}", result.kind)
        summary.append({"grade_id": result.grade_id, "kind": kind, **badge.__dict__})
    total = sum(c.score for c in cells)
    return _template().render(
        t=words,
        lang=language if language in LABELS else "en",
        title=title,
        score=_points(total),
        max_score=_points(sum(c.max_score for c in cells)),
        needs_manual_grade=any(c.needs_manual_grade for c in cells),
        summary=summary,
        notes=notes,
        cells=shown,
        pygments_css=HtmlFormatter().get_style_defs(".highlight"),
    )
