"""Near-identical answers across trainees: token fingerprints of a notebook's code (copydetect).

Exact copies share a fingerprint (lms/readiness/fingerprint.py); a disguised copy (variables
renamed, comments and spacing changed, a blank line added) does not. Here the code cells are
tokenised as Python and every name, string and comment is abstracted away (copydetect's
filter: `total = 0` and `acc = 0` read the same), then winnowed k-grams of tokens are compared
(the MOSS method). Code that is in the released notebook (the exercise's scaffold and tests)
is boilerplate: everyone has it, so it is no evidence of copying.

The similarity of two answers is the mean, over the two, of the share of each one's tokens
found in the other. K_GRAM tokens is long enough that the short idioms every honest solution
of an exercise shares (`for x in xs:`, `return sum(...)`) do not match on their own; two
answers are flagged at NEAR_COPY or above.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

import numpy as np

K_GRAM = 12  # tokens per k-gram of the filtered code
WINDOW = 3  # winnowing window (k-grams): keeps one hash in three, still finds every copy
NEAR_COPY = 0.8
# Pairs sharing fewer hashes than this share of the smaller answer's cannot reach NEAR_COPY.
CANDIDATE_SHARE = 0.5


def answer_code(data: bytes) -> str:
    """The source of a notebook's code cells, one after the other ("" if unreadable)."""
    try:
        cells = json.loads(data.decode("utf-8")).get("cells", [])
    except (UnicodeDecodeError, ValueError, AttributeError):
        return ""
    parts = []
    for cell in cells:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            parts.append("".join(source) if isinstance(source, list) else str(source))
    return "\n".join(parts)


@dataclass(frozen=True)
class CodePrint:
    """A piece of code's winnowed token fingerprint (boilerplate removed)."""

    fingerprint: Any  # copydetect.CodeFingerprint

    @property
    def hashes(self) -> frozenset[int]:
        """The winnowed k-gram hashes that remain."""
        return frozenset(self.fingerprint.hashes)

    @property
    def empty(self) -> bool:
        """Whether nothing is left once boilerplate and short code are set aside."""
        return len(self.fingerprint.hashes) == 0


def code_print(code: str, boilerplate: str = "") -> CodePrint:
    """The fingerprint of `code`, with what also appears in `boilerplate` left out."""
    # copydetect imports matplotlib: loaded only when there are answers to compare.
    from copydetect import CodeFingerprint

    base = None
    if boilerplate:
        scaffold = CodeFingerprint(
            "release.py", K_GRAM, WINDOW, language="python", fp=io.StringIO(boilerplate)
        )
        base = np.array(sorted(scaffold.hashes))
    return CodePrint(
        CodeFingerprint(
            "answer.py", K_GRAM, WINDOW, boilerplate=base, language="python", fp=io.StringIO(code)
        )
    )


def similarity(first: CodePrint, second: CodePrint) -> float:
    """Share of the two answers' tokens they have in common (0 to 1; 0 if either is empty)."""
    from copydetect import compare_files

    if first.empty or second.empty:
        return 0.0
    _overlap, (one, two), _slices = compare_files(first.fingerprint, second.fingerprint)
    return float(min(max((one + two) / 2, 0.0), 1.0))
