"""Atlas against stock nbgrader 0.9.6 (its own commands, a real ipykernel) on the parity corpus
(tests/grading/parity_corpus.py): every per-cell and per-notebook number must be equal."""

from __future__ import annotations

import pytest
from parity_corpus import NOTEBOOKS, Comparison, compare

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def comparison(tmp_path_factory: pytest.TempPathFactory) -> Comparison:
    """The whole corpus graded by both, once for this module (built afresh each run)."""
    return compare(tmp_path_factory.mktemp("parity"))


def test_the_corpus_is_big_and_varied() -> None:
    assert len(NOTEBOOKS) >= 30
    roles = {cell.role for corpus in NOTEBOOKS for cell in corpus.cells}
    assert roles >= {"code", "md", "solution", "test", "manual-code", "manual-md", "task"}


@pytest.mark.parametrize("name", [c.name for c in NOTEBOOKS])
def test_every_number_equals_nbgrader(comparison: Comparison, name: str) -> None:
    assert comparison.differences(name) == []


def test_match_rate(comparison: Comparison) -> None:
    equal, compared = comparison.numbers()
    matching = sum(not comparison.differences(c.name) for c in NOTEBOOKS)
    print(f"parity corpus: {matching}/{len(NOTEBOOKS)} notebooks, {equal}/{compared} numbers")
    assert (matching, equal) == (len(NOTEBOOKS), compared)
