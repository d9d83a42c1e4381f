"""Tampering is restored from the source, scored from the source, and recorded as flags.

Each case is a broken or hostile submission of the fixture exercise (see fixtures_core), graded
for real in the sandbox; each asserts the score, the flag and the cells nbgrader would score.
"""

from __future__ import annotations

import json

import nbformat
import pytest
from fixtures_core import HIDDEN_MARKER, by_id, cell, exercise_source, job, release, submission
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nbgrader.nbgraderformat import ValidationError as NbgraderValidationError

from grading import grade
from grading.exercise import load_exercise
from grading.intake import Rejected, read_submission
from grading.sanitize import CheckCellMetadataRemembered, sanitize
from grading.scoring import score_cells

VERSIONS = ["source", "release"]


def _grade(data: bytes, **kwargs):
    result = grade(job(data, **kwargs))
    assert result.status == "graded", result.error
    return result


def test_honest_submission_has_no_flags_and_full_test_marks() -> None:
    result = _grade(submission(explain="Because a + b = b + a."))
    cells = by_id(result)

    assert result.flags == ()
    assert (cells["test_add"].score, cells["test_add"].max_score) == (2.0, 2.0)
    assert cells["test_data"].score == 1.0  # the data file sits beside the notebook
    assert cells["explain"].needs_manual_grade and cells["explain"].score == 0.0
    assert cells["plot_task"].needs_manual_grade and cells["plot_task"].kind == "task"
    assert (result.score, result.max_score, result.needs_manual_grade) == (3.0, 6.0, True)


def test_unanswered_manual_answer_scores_zero_without_manual_grading() -> None:
    cells = by_id(_grade(submission()))
    assert cells["explain"].score == 0.0 and not cells["explain"].needs_manual_grade


def test_hidden_tests_are_restored_and_can_fail() -> None:
    # passes the visible test (1 + 2) but not the hidden one (-1 + 1)
    result = _grade(submission("    return abs(a) + abs(b)"))
    assert by_id(result)["test_add"].score == 0.0
    assert result.flags == ()  # an untouched cell with hidden tests is not tampering


def test_edited_test_cell_is_restored_and_flagged() -> None:
    def edit(nb):
        cell(nb, "test_add")["source"] = "pass"

    result = _grade(submission("    return 0", edit=edit))
    assert "tampered:test_add" in result.flags
    assert by_id(result)["test_add"].score == 0.0
    assert any("content was edited" in note for note in result.notes)


def test_deleted_test_cell_scores_zero_and_needs_no_manual_grade() -> None:
    def edit(nb):
        nb["cells"].remove(cell(nb, "test_add"))

    result = _grade(submission(edit=edit))
    test_add = by_id(result)["test_add"]
    assert "deleted:test_add" in result.flags
    assert (test_add.score, test_add.max_score, test_add.needs_manual_grade) == (0.0, 2.0, False)
    assert result.max_score == 6.0


def test_changed_points_are_ignored_and_flagged() -> None:
    def edit(nb):
        cell(nb, "test_add")["metadata"]["nbgrader"]["points"] = 100

    result = _grade(submission(edit=edit))
    assert "tampered:test_add" in result.flags
    assert by_id(result)["test_add"].max_score == 2.0 and result.max_score == 6.0


def test_non_numeric_points_are_flagged() -> None:
    def edit(nb):
        cell(nb, "test_data")["metadata"]["nbgrader"]["points"] = "lots"

    result = _grade(submission(edit=edit))
    assert "tampered:test_data" in result.flags
    assert by_id(result)["test_data"].max_score == 1.0


def test_test_cell_turned_into_markdown_is_restored_and_run() -> None:
    def edit(nb):
        c = cell(nb, "test_add")
        c["cell_type"] = "markdown"
        del c["outputs"], c["execution_count"]

    result = _grade(submission(edit=edit))
    assert "tampered:test_add" in result.flags
    assert by_id(result)["test_add"].score == 2.0  # correct answer, the restored test ran


def test_test_cell_with_metadata_removed_is_found_and_restored() -> None:
    def edit(nb):
        del cell(nb, "test_add")["metadata"]["nbgrader"]

    result = _grade(submission("    return a - b", edit=edit))
    assert "tampered:test_add" in result.flags
    assert by_id(result)["test_add"].score == 0.0


def test_ungraded_and_edited_test_cell_is_found_by_its_cell_id() -> None:
    def edit(nb):
        c = cell(nb, "test_add")
        del c["metadata"]["nbgrader"]
        c["source"] = "print('all good')"

    result = _grade(submission("    return a - b", edit=edit))
    assert "tampered:test_add" in result.flags
    assert by_id(result)["test_add"].score == 0.0  # the exercise's test ran, and failed


def test_unrecognisable_test_cell_counts_as_deleted() -> None:
    def edit(nb):
        c = cell(nb, "test_add")
        del c["metadata"]["nbgrader"]
        c["source"] = "print('all good')"
        c["id"] = "mine0001"

    result = _grade(submission(edit=edit))
    assert "deleted:test_add" in result.flags
    assert by_id(result)["test_add"].score == 0.0


def test_test_cell_remarked_as_solution_is_still_autograded() -> None:
    # nbgrader alone would leave this cell to manual grading: a way to dodge a failing test
    def edit(nb):
        cell(nb, "test_add")["metadata"]["nbgrader"]["solution"] = True

    result = _grade(submission("    return 0", edit=edit))
    test_add = by_id(result)["test_add"]
    assert "tampered:test_add" in result.flags
    assert (test_add.score, test_add.needs_manual_grade) == (0.0, False)


def test_test_cell_marked_not_graded_is_still_graded() -> None:
    def edit(nb):
        cell(nb, "test_add")["metadata"]["nbgrader"]["grade"] = False

    result = _grade(submission("    return 0", edit=edit))
    assert "tampered:test_add" in result.flags
    assert by_id(result)["test_add"].score == 0.0


def test_edited_read_only_markdown_is_restored_and_flagged() -> None:
    def edit(nb):
        cell(nb, "intro")["source"] = "# I rewrote the instructions"

    result = _grade(submission(edit=edit))
    assert "tampered:intro" in result.flags
    assert result.score == 3.0
    executed = json.loads(result.graded_notebook)
    intro = next(
        c for c in executed["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == "intro"
    )
    assert intro["source"].startswith("# Adding numbers")


def test_edited_task_cell_is_flagged_and_stays_for_the_instructor() -> None:
    def edit(nb):
        cell(nb, "plot_task")["source"] = "Nothing to do here."

    result = _grade(submission(edit=edit))
    assert "tampered:plot_task" in result.flags
    assert by_id(result)["plot_task"].needs_manual_grade


def test_duplicated_test_cell_is_flagged_and_graded_once() -> None:
    def edit(nb):
        nb["cells"].append(json.loads(json.dumps(cell(nb, "test_add"))))

    result = _grade(submission(edit=edit))
    assert "duplicate:test_add" in result.flags
    assert [c.grade_id for c in result.cells].count("test_add") == 1
    assert by_id(result)["test_add"].score == 2.0


def test_invented_grade_cell_earns_nothing() -> None:
    def edit(nb):
        fake = json.loads(json.dumps(cell(nb, "test_data")))
        fake["metadata"]["nbgrader"].update(grade_id="bonus", points=50)
        fake["source"] = "pass"
        nb["cells"].append(fake)

    result = _grade(submission(edit=edit))
    assert "unknown-cell:bonus" in result.flags
    assert "bonus" not in by_id(result) and result.max_score == 6.0


def test_damaged_nbgrader_metadata_is_flagged() -> None:
    def edit(nb):
        nb["cells"][0]["metadata"]["nbgrader"] = "garbage"

    result = _grade(submission(edit=edit))
    assert "invalid-metadata:cell-1" in result.flags


def test_deleted_manual_answer_scores_zero_without_manual_grading() -> None:
    def edit(nb):
        nb["cells"].remove(cell(nb, "explain"))

    result = _grade(submission(edit=edit))
    explain = by_id(result)["explain"]
    assert "deleted:explain" in result.flags
    assert (explain.score, explain.needs_manual_grade) == (0.0, False)


def test_deleted_task_cell_is_flagged_and_left_to_the_instructor() -> None:
    def edit(nb):
        nb["cells"].remove(cell(nb, "plot_task"))

    result = _grade(submission(edit=edit))
    assert "deleted:plot_task" in result.flags
    assert by_id(result)["plot_task"].needs_manual_grade


def test_anything_on_stderr_fails_a_test_as_in_nbgrader() -> None:
    body = "    import sys\n    print('careful', file=sys.stderr)\n    return a + b"
    result = _grade(submission(body))
    assert by_id(result)["test_add"].score == 0.0


def test_hidden_test_code_is_in_the_graded_notebook_for_staff() -> None:
    result = _grade(submission())
    assert HIDDEN_MARKER in result.graded_notebook


def test_timeout_scores_zero_with_a_flag_and_grading_goes_on() -> None:
    result = _grade(submission("    while True:\n        pass"), timeout=1.0)
    cells = by_id(result)
    assert "timeout:test_add" in result.flags
    assert cells["test_add"].score == 0.0
    assert cells["test_data"].score == 1.0  # later cells still ran


@pytest.mark.parametrize("points", [0, 0.25])
def test_points_scale_from_the_source(points) -> None:
    # a changed points value never changes the score, whatever it is
    def edit(nb):
        cell(nb, "test_data")["metadata"]["nbgrader"]["points"] = points

    result = _grade(submission(edit=edit))
    assert by_id(result)["test_data"].score == 1.0


@pytest.mark.parametrize(
    "crash",
    ["import os\nos._exit(3)", "import faulthandler\nfaulthandler._sigsegv()"],
    ids=["os._exit", "segfault"],
)
def test_cells_never_reached_after_a_crash_score_zero(crash: str) -> None:
    # no output means full marks to nbgrader: tests the interpreter never reached must fail
    result = _grade(submission("    return a + b\n" + crash))
    cells = by_id(result)
    assert "died:add" in result.flags
    assert (cells["test_add"].score, cells["test_data"].score) == (0.0, 0.0)
    assert not cells["test_add"].needs_manual_grade


def test_silencing_tracebacks_does_not_turn_a_failing_test_into_a_pass() -> None:
    # nbgrader's Execute checks the execute_reply status, not only the outputs
    body = "    return a * b\nget_ipython().showtraceback = lambda *args, **kwargs: None"
    result = _grade(submission(body))
    assert by_id(result)["test_add"].score == 0.0


@pytest.mark.parametrize(
    "hook",
    [
        "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])",
        "import ast\n"
        "class T(ast.NodeTransformer):\n"
        "    def visit_Assert(self, node): return ast.Pass()\n"
        "get_ipython().ast_transformers.append(T())",
    ],
    ids=["input-transformer", "ast-transformer"],
)
def test_rewriting_later_cells_does_not_pass_a_failing_test(hook: str) -> None:
    # input and AST transformers installed by trainee code would rewrite the tests run after it
    result = _grade(submission("    return a * b\n" + hook))
    assert by_id(result)["test_add"].score == 0.0


def test_remembered_metadata_check_rejects_what_nbgrader_rejects() -> None:
    nb = nbformat.reads(json.dumps(release()), as_version=4)
    check = CheckCellMetadataRemembered()
    check(nb, {})  # valid: remembered
    check(nb, {})
    bad = nbformat.reads(json.dumps(release()), as_version=4)
    del bad.cells[2].metadata.nbgrader["grade_id"]
    with pytest.raises(NbgraderValidationError):
        check(bad, {})
    with pytest.raises(NbgraderValidationError):
        check(bad, {})  # failures are never remembered


_JUNK = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)
_KEYS = ("grade", "solution", "locked", "task", "points", "grade_id", "schema_version")
_METADATA = st.one_of(
    _JUNK,
    st.fixed_dictionaries(
        {},
        optional={
            key: st.one_of(
                _JUNK, st.sampled_from(["test_add", "add", "explain", "plot_task", "intro"])
            )
            for key in _KEYS
        },
    ),
)
_EDIT = st.tuples(
    st.sampled_from(["type", "metadata", "delete", "duplicate", "source"]),
    st.integers(min_value=0, max_value=50),
    st.sampled_from(["code", "markdown", "raw"]),
    _METADATA,
    st.sampled_from(["", "x = 1", "### BEGIN HIDDEN TESTS", "### END SOLUTION", "assert False"]),
)


def _apply(nb: dict, edit: tuple) -> None:
    op, position, cell_type, metadata, source = edit
    if not nb["cells"]:
        return
    c = nb["cells"][position % len(nb["cells"])]
    if op == "type":
        c["cell_type"] = cell_type
        c.pop("outputs", None)
        c.pop("execution_count", None)
        if cell_type == "code":
            c.update(outputs=[], execution_count=None)
    elif op == "metadata":
        c["metadata"]["nbgrader"] = metadata
    elif op == "delete":
        nb["cells"].remove(c)
    elif op == "duplicate":
        nb["cells"].insert(position % (len(nb["cells"]) + 1), json.loads(json.dumps(c)))
    else:
        c["source"] = source


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits=st.lists(_EDIT, min_size=1, max_size=5), version=st.sampled_from(VERSIONS))
def test_any_mangling_is_sanitized_and_scored_from_the_source(edits, version) -> None:
    nb = release()
    for edit in edits:
        _apply(nb, edit)
    for i, c in enumerate(nb["cells"]):
        c["id"] = f"cell{i}"
    exercise = load_exercise(exercise_source())
    try:
        submitted = read_submission(json.dumps(nb).encode(), exercise)
    except Rejected:
        return  # e.g. every cell of the exercise removed: "not the one for this exercise"
    sanitized, findings = sanitize(submitted, exercise, version)
    cells = score_cells(sanitized, exercise, findings)

    assert [c.grade_id for c in cells] == ["test_add", "test_data", "explain", "plot_task"]
    assert [c.max_score for c in cells] == [2.0, 1.0, 2.0, 1.0]
    assert all(0.0 <= c.score <= c.max_score for c in cells)
    for grade_id in ("test_add", "test_data"):
        if grade_id not in findings.deleted:  # restored: the exercise's own test runs
            (restored,) = [
                c
                for c in sanitized.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id
            ]
            wanted = exercise.source_cells if version == "source" else exercise.release_cells
            assert restored.source == wanted[grade_id].source
            assert restored.cell_type == "code"
