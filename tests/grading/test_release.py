"""Release: what trainees get equals what `nbgrader generate_assignment` gives."""

from __future__ import annotations

import json
import os

import nbformat
import pytest
from fixtures_core import HIDDEN_MARKER, PS1, cell, exercise_source, release
from nbgrader.utils import compute_checksum

from grading import SourceError, release_folder, release_notebook, validate_source


def _ps1_or_skip() -> None:
    if not PS1.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{PS1} is missing: CI must check out shared/ beside the repository")
        pytest.skip(f"{PS1} not present locally (the nbgrader ps1 parity fixture)")


def _header_of(released: dict) -> dict:
    """nbgrader's docs course sets IncludeHeaderFooter.header = source/header.ipynb; its cells are
    the first cells of every released notebook (generate_assignment copies them unchanged), so
    the header notebook is rebuilt from them."""
    header = dict(released)
    header["cells"] = [c for c in released["cells"][:3] if "nbgrader" not in c["metadata"]]
    assert len(header["cells"]) == 3
    return header


@pytest.mark.parametrize("notebook", ["problem1", "problem2"])
def test_ps1_release_equals_nbgrader(notebook: str) -> None:
    _ps1_or_skip()
    expected = json.loads((PS1 / "release" / "ps1" / f"{notebook}.ipynb").read_text())
    source = (PS1 / "source" / "ps1" / f"{notebook}.ipynb").read_text()

    ours = json.loads(release_notebook(source, json.dumps(_header_of(expected))))

    assert len(ours["cells"]) == len(expected["cells"])
    for mine, theirs in zip(ours["cells"], expected["cells"], strict=True):
        assert mine["cell_type"] == theirs["cell_type"]
        assert "".join(mine["source"]) == "".join(theirs["source"])
        assert mine["metadata"] == theirs["metadata"]  # lock flags, nbgrader metadata, checksum
        assert mine.get("outputs", []) == theirs.get("outputs", [])
    assert ours["metadata"] == expected["metadata"]


def test_release_without_header_is_the_body() -> None:
    _ps1_or_skip()
    expected = json.loads((PS1 / "release" / "ps1" / "problem1.ipynb").read_text())
    ours = json.loads(release_notebook((PS1 / "source" / "ps1" / "problem1.ipynb").read_text()))
    assert ours["cells"] == expected["cells"][3:]


def test_release_removes_solutions_hidden_tests_and_mark_schemes() -> None:
    text = release_notebook(exercise_source())
    nb = release()

    assert HIDDEN_MARKER not in text
    assert "BEGIN HIDDEN TESTS" not in text
    assert "anything goes" not in text and "MARK SCHEME" not in text
    assert "return a + b" not in text
    stub = "def add(a, b):\n    # YOUR CODE HERE\n    raise NotImplementedError()"
    assert cell(nb, "add")["source"] == stub
    assert cell(nb, "explain")["source"] == "YOUR ANSWER HERE"
    assert cell(nb, "test_add")["source"] == "assert add(1, 2) == 3"


def test_release_locks_cells_and_sets_checksums() -> None:
    nb = nbformat.reads(release_notebook(exercise_source()), as_version=4)
    meta = {c.metadata.nbgrader.grade_id: c.metadata for c in nb.cells}

    assert meta["test_add"]["editable"] is False and meta["test_add"]["deletable"] is False
    assert meta["intro"]["editable"] is False
    assert meta["add"]["deletable"] is False and "editable" not in meta["add"]
    for c in nb.cells:
        assert c.metadata.nbgrader["checksum"] == compute_checksum(c)
        assert c.metadata.nbgrader["cell_type"] == c.cell_type


def test_release_folder_copies_data_and_skips_checkpoints(tmp_path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    (src / "data").mkdir(parents=True)
    (src / ".ipynb_checkpoints").mkdir()
    (src / "exercise.ipynb").write_text(exercise_source())
    (src / "data" / "numbers.csv").write_text("1,2\n")
    (src / ".ipynb_checkpoints" / "exercise-checkpoint.ipynb").write_text(exercise_source())

    written = release_folder(src, dst)

    assert written == [dst / "exercise.ipynb"]
    assert (dst / "data" / "numbers.csv").read_text() == "1,2\n"
    assert not (dst / ".ipynb_checkpoints").exists()
    assert HIDDEN_MARKER not in (dst / "exercise.ipynb").read_text()


def test_release_folder_names_the_bad_notebook_and_writes_nothing(tmp_path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.mkdir()
    (src / "a.ipynb").write_text(exercise_source())
    (src / "b.ipynb").write_text("{not json")

    with pytest.raises(SourceError, match="b.ipynb"):
        release_folder(src, dst)
    assert not dst.exists()


def test_validate_source_lists_grade_cells() -> None:
    cells = {c.grade_id: c for c in validate_source(exercise_source())}

    assert list(cells) == ["test_add", "test_data", "explain", "plot_task"]
    assert (cells["test_add"].kind, cells["test_add"].max_score) == ("test", 2.0)
    assert cells["test_add"].has_hidden_tests and not cells["test_data"].has_hidden_tests
    assert (cells["explain"].kind, cells["plot_task"].kind) == ("manual", "task")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda nb: nb["cells"].__setitem__(slice(None), []), "no graded cells"),
        (
            lambda nb: nb["cells"][1]["metadata"]["nbgrader"].__setitem__("grade_id", "test_add"),
            "invalid",
        ),
        (
            lambda nb: nb["cells"][2].__setitem__("source", "### AUTOTEST add(1, 2)"),
            "AUTOTEST",
        ),
        (
            lambda nb: nb["cells"][2].__setitem__("source", "### BEGIN HIDDEN TESTS\nx = 1"),
            "hidden tests",
        ),
    ],
)
def test_bad_sources_are_explained(mutate, message) -> None:
    nb = json.loads(exercise_source())
    mutate(nb)
    with pytest.raises(SourceError, match=message):
        validate_source(json.dumps(nb))


def test_source_that_is_not_a_notebook() -> None:
    with pytest.raises(SourceError, match="not a readable Jupyter notebook"):
        validate_source("hello")
