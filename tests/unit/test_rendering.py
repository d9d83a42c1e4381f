"""Lesson Markdown and release notebooks become safe HTML."""

from __future__ import annotations

from lms.web.rendering import notebook_cells, render_markdown


def test_markdown_is_rendered_highlighted_and_sanitised() -> None:
    html = str(
        render_markdown(
            "# Title\n\n| a | b |\n| - | - |\n| 1 | 2 |\n\n```python\nx = 1\n```\n\n"
            "<script>alert(1)</script>\n\n[link](javascript:alert(1)) <img src=x onerror=alert(1)>"
        )
    )
    assert "<h1>Title</h1>" in html and "<table>" in html
    assert '<pre class="highlight"><code><span class="n">x</span>' in html
    # Raw HTML is shown as text, never as tags; a javascript: link is not made a link.
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;" in html


def test_unknown_code_language_is_escaped_not_dropped() -> None:
    html = str(render_markdown("```nosuchlang\n<b>x</b>\n```"))
    assert "&lt;b&gt;x&lt;/b&gt;" in html


def test_notebook_cells_make_solution_cells_editable() -> None:
    notebook = {
        "metadata": {"language_info": {"name": "python"}},
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["**Task** <script>x</script>"]},
            {
                "cell_type": "code",
                "metadata": {"nbgrader": {"solution": True, "grade_id": "ans"}},
                "source": "# YOUR CODE HERE",
            },
            {
                "cell_type": "code",
                "metadata": {"nbgrader": {"grade": True, "grade_id": "t"}},
                "source": "assert f() == 1",
            },
            {
                "cell_type": "markdown",
                "metadata": {"nbgrader": {"solution": True, "grade_id": "why"}},
                "source": "YOUR ANSWER HERE",
            },
        ],
    }
    cells = notebook_cells(notebook)
    assert [c.kind for c in cells] == ["markdown", "answer", "code", "answer"]
    assert "<strong>Task</strong>" in cells[0].html and "<script" not in cells[0].html
    assert (cells[1].grade_id, cells[1].source) == ("ans", "# YOUR CODE HERE")
    assert "assert" in cells[2].html and cells[3].cell_type == "markdown"


def test_a_notebook_heading_sits_under_the_page_heading() -> None:
    from lms.web.rendering import notebook_cells, render_markdown

    assert "<h1>Title</h1>" in render_markdown("# Title")
    cells = notebook_cells({"cells": [{"cell_type": "markdown", "source": "# A\n###### B"}]})
    assert "<h2>A</h2>" in cells[0].html and "<h6>B</h6>" in cells[0].html
