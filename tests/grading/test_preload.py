"""What `lms grade` preloads in its fork server: the common libraries its notebooks import."""

from __future__ import annotations

import json

from grading.runtime.preload import DEFAULT_PRELOAD, imported_modules, preload_for


def _notebook(*sources: str, markdown: str = "import sklearn") -> bytes:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": markdown}]
    cells += [
        {"cell_type": "code", "metadata": {}, "source": source.splitlines(keepends=True)}
        for source in sources
    ]
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()


def test_plain_python_notebooks_preload_nothing() -> None:
    assert preload_for([_notebook("def squares(n):\n    return [i * i for i in range(n)]")]) == ()


def test_each_library_imported_brings_its_package_in_the_servers_order() -> None:
    notebooks = [
        _notebook("import pandas as pd"),
        _notebook("def fit(X, y):\n    from sklearn.linear_model import Ridge\n    return Ridge()"),
        _notebook("from scipy import stats"),
    ]
    assert preload_for(notebooks) == (
        "pandas",
        "scipy",
        "scipy.stats",
        "sklearn",
        "sklearn.linear_model",
    )


def test_a_cell_with_magics_is_still_scanned_line_by_line() -> None:
    cell = "%matplotlib inline\nimport numpy as np, os\nfrom sklearn.metrics import (\n  f1_score,"
    assert {"numpy", "os", "sklearn.metrics"} <= imported_modules(cell)
    assert preload_for([_notebook(cell)]) == ("numpy", "sklearn", "sklearn.metrics")


def test_anything_unreadable_adds_nothing_and_the_list_is_the_servers() -> None:
    assert preload_for([b"not json", b'{"cells": 3}', _notebook("import numpy")]) == ("numpy",)
    everything = _notebook(*(f"import {name}" for name in DEFAULT_PRELOAD))
    assert preload_for([everything]) == DEFAULT_PRELOAD
