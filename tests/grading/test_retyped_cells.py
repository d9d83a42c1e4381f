"""A grade cell the trainee deleted and typed again (its source, its type or its nbgrader
metadata) is restored from the exercise and flagged, in every nbformat 4 minor version, with or
without cell ids."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from fixtures_core import by_id, cell, exercise_source, job, release, submission

from grading import grade_many
from grading.exercise import load_exercise
from grading.intake import read_submission
from grading.sanitize import sanitize

MINORS = range(6)  # nbformat 4.0 to 4.5 (cell ids from 4.5)


def _in_minor(nb: dict[str, Any], minor: int) -> dict[str, Any]:
    nb = copy.deepcopy(nb)
    nb["nbformat_minor"] = minor
    if minor < 5:
        for c in nb["cells"]:
            c.pop("id", None)
    return nb


def _to_markdown(nb: dict[str, Any]) -> None:
    c = cell(nb, "test_add")
    c["cell_type"] = "markdown"
    del c["outputs"], c["execution_count"]


def _retyped_without_metadata(nb: dict[str, Any]) -> None:
    c = cell(nb, "test_add")
    # typed again by hand: other line breaks and spaces, a new cell (no id, no metadata)
    retyped = {"cell_type": "code", "source": "assert add(1,2)  ==  3\n", "metadata": {}}
    retyped.update(outputs=[], execution_count=None)
    if "id" in c:
        retyped["id"] = "retyped-1"
    nb["cells"][nb["cells"].index(c)] = retyped


def _retyped_as_markdown_without_metadata(nb: dict[str, Any]) -> None:
    c = cell(nb, "test_add")
    retyped = {"cell_type": "markdown", "source": c["source"], "metadata": {}}
    if "id" in c:
        retyped["id"] = "retyped-2"
    nb["cells"][nb["cells"].index(c)] = retyped


def _metadata_retyped(nb: dict[str, Any]) -> None:
    cell(nb, "test_add")["metadata"]["nbgrader"] = {"grade": True, "grade_id": "test_add"}
    cell(nb, "test_add")["metadata"]["nbgrader"]["points"] = 20


def _manual_answer_to_code(nb: dict[str, Any]) -> None:
    c = cell(nb, "explain")
    c.update(cell_type="code", outputs=[], execution_count=None)


RETYPINGS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "to-markdown": (_to_markdown, "test_add"),
    "retyped-without-metadata": (_retyped_without_metadata, "test_add"),
    "retyped-as-markdown": (_retyped_as_markdown_without_metadata, "test_add"),
    "metadata-retyped": (_metadata_retyped, "test_add"),
    "manual-answer-to-code": (_manual_answer_to_code, "explain"),
}


def _retyped(minor: int, how: str) -> bytes:
    edit, _ = RETYPINGS[how]
    return submission(edit=lambda nb: edit(_replace(nb, _in_minor(nb, minor))))


def _replace(nb: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    nb.clear()
    nb.update(new)
    return nb


@pytest.mark.parametrize("how", sorted(RETYPINGS))
@pytest.mark.parametrize("minor", MINORS)
def test_a_retyped_grade_cell_is_restored_and_flagged(minor: int, how: str) -> None:
    exercise = load_exercise(exercise_source())
    nb = read_submission(_retyped(minor, how), exercise)
    nb, findings = sanitize(nb, exercise)
    grade_id = RETYPINGS[how][1]
    assert findings.flags == [f"tampered:{grade_id}"]
    (restored,) = [
        c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id
    ]
    source = exercise.source_cells[grade_id]
    assert (restored.cell_type, restored.source) == (source.cell_type, source.source)


@pytest.mark.parametrize("minor", MINORS)
def test_a_test_cell_retyped_to_markdown_scores_from_the_source(minor: int) -> None:
    results = grade_many([job(_retyped(minor, how), name=f"{how}.ipynb") for how in RETYPINGS])
    for how, result in zip(RETYPINGS, results, strict=True):
        assert result.status == "graded", (minor, how, result.error)
        assert by_id(result)["test_add"].score == 2.0, (minor, how)
        assert by_id(result)["test_add"].max_score == 2.0, (minor, how)
        assert f"tampered:{RETYPINGS[how][1]}" in result.flags, (minor, how)


def test_the_release_itself_in_an_old_minor_is_not_flagged() -> None:
    exercise = load_exercise(exercise_source())
    for minor in MINORS:
        data = json.dumps(_in_minor(release(), minor)).encode()
        _, findings = sanitize(read_submission(data, exercise), exercise)
        assert findings.flags == [], minor
