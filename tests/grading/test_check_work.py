"""`check_work`: the visible tests only, what a trainee could run themselves."""

from __future__ import annotations

from fixtures_core import HIDDEN_MARKER, by_id, cell, job, submission

from grading import check_work, grade


def test_visible_tests_only() -> None:
    # right on the visible test, wrong on the hidden one
    data = submission("    return abs(a) + abs(b)")

    checked = check_work(job(data))
    graded = grade(job(data))

    assert by_id(checked)["test_add"].score == 2.0
    assert by_id(graded)["test_add"].score == 0.0
    for text in (checked.graded_notebook, checked.feedback_html):
        assert HIDDEN_MARKER not in text


def test_reports_pass_and_fail_per_test() -> None:
    checked = check_work(job(submission("    return a - b")))
    cells = by_id(checked)
    assert checked.status == "graded"
    assert (cells["test_add"].score, cells["test_data"].score) == (0.0, 1.0)


def test_tampered_visible_test_is_restored_from_the_release() -> None:
    def edit(nb):
        cell(nb, "test_add")["source"] = "pass"

    checked = check_work(job(submission("    return 0", edit=edit)))
    assert "tampered:test_add" in checked.flags
    assert by_id(checked)["test_add"].score == 0.0
    assert HIDDEN_MARKER not in checked.graded_notebook


def test_nbgrader_execution_variable_is_validate_when_checking_and_autograde_when_grading() -> None:
    # nbgrader sets NBGRADER_EXECUTION to "validate" / "autograde"; exercises may rely on it
    body = (
        "    import os\n"
        "    return a + b if os.environ.get('NBGRADER_EXECUTION') == 'autograde' else None"
    )
    data = submission(body)
    assert by_id(grade(job(data)))["test_add"].score == 2.0
    assert by_id(check_work(job(data)))["test_add"].score == 0.0
