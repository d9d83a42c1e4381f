"""Bad files are answers, not crashes: `status="rejected"` and a sentence for the trainee."""

from __future__ import annotations

import json

import nbformat
import pytest
from fixtures_core import PS1, job, release, submission
from nbformat.v4 import new_code_cell, new_notebook

from grading import grade
from grading.runtime import RunOutcome, RunRequest


class NeverRuns:
    """A runtime that fails the test if a rejected file were executed."""

    def run(self, request: RunRequest) -> RunOutcome:
        raise AssertionError("a rejected submission must not be executed")


def _nbformat3() -> bytes:
    nb = {
        "metadata": {"name": "old"},
        "nbformat": 3,
        "nbformat_minor": 0,
        "worksheets": [{"cells": [{"cell_type": "code", "input": "1", "outputs": []}]}],
    }
    return json.dumps(nb).encode()


def _other_exercise() -> bytes:
    if PS1.is_dir():
        return (PS1 / "release" / "ps1" / "problem2.ipynb").read_bytes()
    nb = release()
    for c in nb["cells"]:
        if "nbgrader" in c["metadata"]:
            c["metadata"]["nbgrader"]["grade_id"] += "_other"
    return json.dumps(nb).encode()


def _plain_notebook() -> bytes:
    return nbformat.writes(new_notebook(cells=[new_code_cell("print('hi')")])).encode()


def _damaged() -> bytes:
    nb = release()
    nb["cells"][0]["cell_type"] = "slides"
    return json.dumps(nb).encode()


CASES = {
    "empty": (lambda: b"", "empty"),
    "whitespace": (lambda: b"  \n", "not valid notebook JSON"),
    "not json": (lambda: b"def add(a, b): return a + b\n", "not valid notebook JSON"),
    "binary": (lambda: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "not text"),
    "json list": (lambda: b"[1, 2, 3]", "not a Jupyter notebook"),
    "json object": (lambda: b'{"name": "add"}', "not a Jupyter notebook"),
    "truncated": (lambda: submission()[:-40], "not valid notebook JSON"),
    "nbformat 3": (_nbformat3, "old notebook format 3"),
    "nbformat 5": (
        lambda: submission().replace(b'"nbformat": 4', b'"nbformat": 5'),
        "format 5",
    ),
    "no cells": (lambda: b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}}', "no list"),
    "damaged cell": (_damaged, "damaged"),
    "other exercise": (_other_exercise, "not the one for this exercise"),
    "plain notebook": (_plain_notebook, "not the one for this exercise"),
    "60 MB": (lambda: b"{" + b" " * (60 * 1024 * 1024) + b"}", "more than the 50.0 MB allowed"),
    "deep nesting": (lambda: b"[" * 100_000 + b"]" * 100_000, "not valid notebook JSON"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_file_is_rejected_with_a_sentence(case: str) -> None:
    make, phrase = CASES[case]
    result = grade(job(make(), name=f"{case}.ipynb"), NeverRuns())

    assert result.status == "rejected"
    assert phrase in result.error
    assert result.error.endswith(".") and len(result.error.split()) >= 8  # a sentence, with advice
    assert (result.score, result.cells, result.feedback_html) == (0.0, (), None)
    assert result.submission == f"{case}.ipynb"
    assert result.to_json()["error"] == result.error


def test_size_limit_is_configurable() -> None:
    data = submission()
    result = grade(job(data), NeverRuns(), max_bytes=len(data) - 1)
    assert result.status == "rejected" and "more than the" in result.error
