"""The grader's view of a notebook: every cell and output rendered, nothing from it trusted."""

from __future__ import annotations

import base64

from lms.web.notebook_review import MAX_OUTPUT_CHARS, review_cells

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\nnot really").decode()


def _notebook(*cells: dict) -> dict:
    return {"metadata": {"language_info": {"name": "python"}}, "cells": list(cells)}


def test_cells_keep_their_nbgrader_roles_and_outputs() -> None:
    cells = review_cells(
        _notebook(
            {
                "cell_type": "markdown",
                "source": ["# Title\n", "<script>x()</script>"],
                "metadata": {},
            },
            {
                "cell_type": "code",
                "source": "print(1)",
                "metadata": {"nbgrader": {"grade_id": "answer", "solution": True}},
                "outputs": [{"output_type": "stream", "text": ["<b>1</b>\n"]}],
            },
            {
                "cell_type": "code",
                "source": "assert f()",
                "metadata": {"nbgrader": {"grade_id": "t", "grade": True}},
                "outputs": [
                    {
                        "output_type": "error",
                        "ename": "AssertionError",
                        "evalue": "",
                        "traceback": ["\x1b[0;31mAssertionError\x1b[0m: boom"],
                    }
                ],
            },
            {
                "cell_type": "markdown",
                "source": "Do it",
                "metadata": {"nbgrader": {"grade_id": "task", "task": True}},
            },
        )
    )
    assert [(c.position, c.role, c.grade_id) for c in cells] == [
        (1, "text", None),
        (2, "answer", "answer"),
        (3, "test", "t"),
        (4, "task", "task"),
    ]
    assert "<h1>Title</h1>" in cells[0].html and "<script>" not in cells[0].html
    assert '<pre class="highlight">' in cells[1].html
    assert cells[1].outputs == ('<pre class="output">&lt;b&gt;1&lt;/b&gt;\n</pre>',)
    assert "\x1b" not in cells[2].outputs[0] and "AssertionError: boom" in cells[2].outputs[0]


def test_images_only_as_well_formed_base64_and_long_output_is_cut() -> None:
    cells = review_cells(
        _notebook(
            {
                "cell_type": "code",
                "source": "",
                "metadata": {},
                "outputs": [
                    {"output_type": "display_data", "data": {"image/png": PNG + "\n"}},
                    {"output_type": "display_data", "data": {"image/png": '" onerror="alert(1)'}},
                    {
                        "output_type": "execute_result",
                        "data": {"text/plain": "x" * (MAX_OUTPUT_CHARS + 10)},
                    },
                ],
            }
        )
    )
    outputs = cells[0].outputs
    assert outputs[0] == f'<img class="output" alt="" src="data:image/png;base64,{PNG}">'
    assert len(outputs) == 2 and "onerror" not in "".join(outputs)
    assert outputs[1].count("x") == MAX_OUTPUT_CHARS


def test_a_malformed_notebook_gives_what_it_can() -> None:
    cells = review_cells({"cells": ["not a cell", {"source": "x = 1", "metadata": "bad"}]})
    assert [(c.position, c.role) for c in cells] == [(2, "code")]
    assert review_cells({}) == []
