"""Feedback pages: the trainee's work with per-test results, never hidden tests, safe to open."""

from __future__ import annotations

import re

from fixtures_core import HIDDEN_MARKER, job, submission

from grading import grade


def _with_cell(source: str):
    def edit(nb):
        nb["cells"].append(
            {
                "cell_type": "code",
                "execution_count": None,
                "id": "extra0001",
                "metadata": {},
                "outputs": [],
                "source": source,
            }
        )

    return edit


def _feedback(data: bytes) -> str:
    result = grade(job(data))
    assert result.status == "graded", result.error
    return result.feedback_html


def test_feedback_shows_code_outputs_results_and_points() -> None:
    page = _feedback(submission(edit=_with_cell("print('hello from the trainee')")))

    assert 'return</span> <span class="n">a</span>' in page  # the trainee's code, highlighted
    assert "hello from the trainee" in page
    assert "test_add" in page and "passed" in page and "2 / 2" in page
    assert "Score: <strong>3</strong> / 6" in page


def test_failing_test_is_reported_as_failed() -> None:
    page = _feedback(submission("    return a * b"))
    assert re.search(r'badge failed">failed\s*— 0 / 2', page)


def test_hidden_tests_never_appear_even_when_they_fail() -> None:
    # the hidden assertion fails, so nbgrader's traceback would quote the hidden line
    page = _feedback(submission("    return abs(a) + abs(b)"))
    assert HIDDEN_MARKER not in page
    assert "BEGIN HIDDEN TESTS" not in page
    assert "add fails on negatives" not in page
    assert "also has hidden tests" in page
    assert re.search(r'badge failed">failed\s*— 0 / 2', page)  # the points: from all the tests


def test_feedback_outputs_come_from_the_visible_run() -> None:
    # IPython keeps every cell's input in `In`: in the run the trainee sees, there is no hidden
    # test to print (nothing is redacted: it was never there)
    page = _feedback(submission(edit=_with_cell("print('\\n'.join(In))")))
    assert HIDDEN_MARKER not in page
    assert "return a + b" in page  # In holds the trainee's cells; tests run outside IPython


def test_feedback_refuses_a_notebook_that_held_hidden_tests() -> None:
    import json

    import pytest
    from fixtures_core import exercise_source
    from nbformat import reads

    from grading.exercise import load_exercise
    from grading.feedback import NotVisibleRun, render_feedback

    result = grade(job(submission()))
    nb = reads(result.graded_notebook, as_version=4)
    with pytest.raises(NotVisibleRun):
        render_feedback(
            nb,
            load_exercise(exercise_source()),
            list(result.cells),
            title="t",
            notes=[],
            deleted=set(),
        )
    assert json.loads(result.graded_notebook)  # staff still get the executed notebook
    assert HIDDEN_MARKER in result.graded_notebook


def test_mark_scheme_never_appears() -> None:
    page = _feedback(submission())
    assert "anything goes" not in page and "MARK SCHEME" not in page


def test_outputs_are_escaped_and_no_active_content_is_rendered() -> None:
    code = (
        "from IPython.display import HTML, Javascript, display\n"
        "print('<script>alert(1)</script>')\n"
        "display(HTML('<img src=x onerror=alert(2)>'))\n"
        "display(Javascript('alert(3)'))"
    )

    def edit(nb):
        _with_cell(code)(nb)
        nb["cells"].append(
            {
                "cell_type": "markdown",
                "id": "extra0002",
                "metadata": {},
                "source": "<script>alert(4)</script> [x](javascript:alert(5)) ![t](http://x.test/t.png)",
            }
        )

    page = _feedback(submission(edit=edit))

    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "onerror" not in page.replace("onerror=alert(2)&gt;", "")  # only as escaped text
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*javascript:""", page)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing from the network


def test_output_is_capped() -> None:
    page = _feedback(submission(edit=_with_cell("print('x' * 2_000_000)")))
    assert len(page) < 200_000
    assert "output truncated" in page


def test_flags_are_explained_on_the_page() -> None:
    def edit(nb):
        for c in nb["cells"]:
            if c["metadata"].get("nbgrader", {}).get("grade_id") == "test_add":
                c["source"] = "pass"

    page = _feedback(submission(edit=edit))
    assert "Cell &#39;test_add&#39;: its content was edited" in page
