"""Turning lesson Markdown and notebooks into safe HTML."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nh3
from flask import Flask, Response, current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from markdown_it import MarkdownIt
from markupsafe import Markup, escape
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from grading import cells
from lms.models import ExerciseKind, UserRole
from lms.models.accounts import LEARNER_ROLES, STAFF_ROLES, TALENT_ROLES

_FORMATTER = HtmlFormatter(nowrap=True)
_ALLOWED_ATTRIBUTES = {
    "*": {"class"},
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"style"},
    "td": {"style"},
    "ol": {"start"},
}


def highlight_code(code: str, language: str = "python") -> Markup:
    """`code` as highlighted HTML in a <pre class="highlight"> (escaped if the language is
    unknown)."""
    try:
        lexer = get_lexer_by_name(language or "text")
    except ClassNotFound:
        lexer = get_lexer_by_name("text")
    body = highlight(code, lexer, _FORMATTER)
    return Markup(f'<pre class="highlight"><code>{body}</code></pre>')


def _markdown_highlight(code: str, language: str, _attrs: str) -> str:
    return str(highlight_code(code, language or "text"))


_MARKDOWN = MarkdownIt("commonmark", {"html": False, "highlight": _markdown_highlight})
_MARKDOWN.enable("table")


def render_markdown(text: str, heading_offset: int = 0) -> Markup:
    """CommonMark (+ tables) to HTML, raw HTML not trusted, then sanitised by nh3; headings
    `heading_offset` levels lower (a notebook's `#` under the page's own h1 becomes an h2)."""
    tokens = _MARKDOWN.parse(text or "")
    for token in tokens:
        if heading_offset and token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + heading_offset, 6)}"
    html = _MARKDOWN.renderer.render(tokens, _MARKDOWN.options, {})
    return Markup(nh3.clean(html, attributes=_ALLOWED_ATTRIBUTES))


@dataclass(frozen=True)
class NotebookCell:
    """A cell as the exercise page shows it: markdown, read-only code, or an answer to edit."""

    kind: str  # markdown | code | answer
    html: Markup
    source: str = ""
    grade_id: str | None = None
    cell_type: str = "code"


def notebook_cells(notebook: dict[str, Any]) -> list[NotebookCell]:
    """The cells of a release notebook, answer cells (nbgrader solution cells) made editable."""
    language = (notebook.get("metadata", {}).get("language_info", {}) or {}).get("name", "python")
    shown = []
    for cell in notebook.get("cells", []):
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        if cells.is_solution(cell) and (grade_id := cells.grade_id(cell)):
            shown.append(
                NotebookCell("answer", Markup(""), source, grade_id, cell.get("cell_type", "code"))
            )
        elif cell.get("cell_type") == "markdown":
            shown.append(NotebookCell("markdown", render_markdown(source, heading_offset=1)))
        elif cell.get("cell_type") == "code":
            shown.append(NotebookCell("code", highlight_code(source, language), source))
        else:
            shown.append(NotebookCell("code", Markup(f"<pre>{escape(source)}</pre>"), source))
    return shown


def page_language() -> str:
    """The language of the page being built ("en" or "fr"): names, notebooks and exports in it."""
    return str(get_locale())


def localized(obj: Any, field: str) -> str:
    """`obj.<field>_fr` when the page is in French and it exists, else `obj.<field>`."""
    if str(get_locale()) == "fr":
        value = getattr(obj, f"{field}_fr", None)
        if value:
            return value
    return getattr(obj, field)


def status_label(status: Any) -> str:
    """A submission status in the page's language."""
    labels = {
        "queued": _("Queued"),
        "running": _("Running"),
        "graded": _("Graded"),
        "rejected": _("Rejected"),
        "failed": _("Failed"),
    }
    value = getattr(status, "value", status)
    return labels.get(value, value)


def static_file_exists(name: str) -> bool:
    """Whether the app serves static file `name` (a built asset may be absent)."""
    folder = current_app.static_folder
    return folder is not None and (Path(folder) / name).is_file()


def register_template_helpers(app: Flask) -> None:
    """Template filters, and the Pygments stylesheet served by the app."""
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.globals["localized"] = localized
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["status_label"] = status_label
    app.jinja_env.globals["static_file_exists"] = static_file_exists
    # The roles and their groups, from the one place that defines them (the navigation uses them).
    app.jinja_env.globals.update(
        UserRole=UserRole,
        ExerciseKind=ExerciseKind,
        LEARNER_ROLES=LEARNER_ROLES,
        STAFF_ROLES=STAFF_ROLES,
        TALENT_ROLES=TALENT_ROLES,
    )

    css = HtmlFormatter(style="default").get_style_defs(".highlight")

    @app.get("/pygments.css")
    def pygments_css() -> Response:
        """The syntax-highlighting stylesheet."""
        response = Response(css, mimetype="text/css")
        response.cache_control.max_age = 3600
        return response
