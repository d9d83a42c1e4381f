"""A notebook's answers, normalised, as one hash: the same work re-sent gives the same hash.

Outputs, execution counts and every metadata field are dropped (re-running a notebook changes
them, not the work); each cell's source has its whitespace runs collapsed and blank lines
removed (re-indenting a comment or adding an empty line is not new work). Cell types and order
are kept.
"""

from __future__ import annotations

import hashlib
import json
import re

_SPACE = re.compile(r"[ \t\r\f\v]+")


def normalise_source(source: str | list[str]) -> str:
    """A cell's source with whitespace runs collapsed and blank lines dropped."""
    text = "".join(source) if isinstance(source, list) else str(source)
    lines = (_SPACE.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def notebook_fingerprint(data: bytes) -> str:
    """sha256 of the notebook's normalised cells; unreadable bytes hash as they are."""
    try:
        cells = json.loads(data.decode("utf-8")).get("cells", [])
        parts = [
            [cell.get("cell_type", ""), normalise_source(cell.get("source", ""))]
            for cell in cells
            if isinstance(cell, dict)
        ]
    except (UnicodeDecodeError, ValueError, AttributeError):
        return hashlib.sha256(data).hexdigest()
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()
