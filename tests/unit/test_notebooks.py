"""Checking uploads and building a notebook from answers typed in the browser."""

from __future__ import annotations

import json

import pytest

from lms.services.notebooks import (
    NotebookRejected,
    check_belongs_to,
    fill_answers,
    parse_notebook,
)

RELEASE = {
    "nbformat": 4,
    "nbformat_minor": 5,
    "metadata": {},
    "cells": [
        {
            "cell_type": "code",
            "metadata": {"nbgrader": {"solution": True, "grade_id": "f"}},
            "source": "# YOUR CODE HERE",
            "outputs": [],
            "execution_count": None,
        },
        {
            "cell_type": "code",
            "metadata": {"nbgrader": {"grade": True, "grade_id": "test_f"}},
            "source": "assert f() == 1",
            "outputs": [],
            "execution_count": None,
        },
    ],
}


def test_fill_answers_replaces_only_answer_cells() -> None:
    data = fill_answers(RELEASE, {"f": "def f():\r\n    return 1", "test_f": "pass"})
    notebook = parse_notebook(data)
    assert notebook["cells"][0]["source"] == "def f():\n    return 1"
    assert notebook["cells"][1]["source"] == "assert f() == 1"  # tests are never replaced
    assert RELEASE["cells"][0]["source"] == "# YOUR CODE HERE"  # the release is not mutated


@pytest.mark.parametrize("data", [b"\xff\xfe", b"[1, 2]", b'{"cells": []}', b"not json"])
def test_parse_notebook_rejects_what_is_not_a_v4_notebook(data: bytes) -> None:
    with pytest.raises(NotebookRejected):
        parse_notebook(data)


def test_check_belongs_to_needs_one_shared_grade_id() -> None:
    check_belongs_to(json.loads(json.dumps(RELEASE)), RELEASE, "F")
    foreign = {
        "nbformat": 4,
        "cells": [
            {"cell_type": "code", "metadata": {"nbgrader": {"grade_id": "other"}}, "source": ""}
        ],
    }
    with pytest.raises(NotebookRejected, match="not the one for"):
        check_belongs_to(foreign, RELEASE, "F")
