"""What the fork server imports before its first fork: all the common libraries for a server,
or only those a batch of notebooks imports, for a one-off command.

A server grades whatever comes, so it preloads every library exercises commonly use
(`DEFAULT_PRELOAD`, each skipped if not installed). `lms grade` knows every notebook it will run
before it starts the fork server: `preload_for` keeps the libraries of that list which the
notebooks' code imports, so a batch of plain-Python notebooks does not wait for scikit-learn to
load. A library a notebook imports in a way the scan cannot see (`importlib`, `exec`) is still
imported in the sandbox, only more slowly.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable

# What exercises import, imported once in the fork server when installed (a missing one is
# skipped): a job then forks with them loaded instead of paying seconds per sklearn import. Safe
# to share: each job is a fresh fork (what trainee code changes in a module stays in its own
# copy), nothing here starts a thread (BLAS held to one), and the sandbox's address-space limit
# is measured after them.
DEFAULT_PRELOAD = (
    "numpy",
    "pandas",
    "scipy",
    "scipy.stats",
    "sklearn",
    "sklearn.base",
    "sklearn.compose",
    "sklearn.linear_model",
    "sklearn.metrics",
    "sklearn.model_selection",
    "sklearn.pipeline",
    "sklearn.preprocessing",
)
# A line's import when the cell is not plain Python (IPython magics, shell escapes).
_IMPORT_LINE = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import\s+([\w\s.,()]+)|import\s+([\w\s.,]+))")


def imported_modules(code: str) -> set[str]:
    """Every module name an `import` in `code` may load (`from a import b` gives a and a.b)."""
    names: set[str] = set()
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        for line in code.splitlines():
            found = _IMPORT_LINE.match(line)
            if found and found.group(1):
                module = found.group(1)
                names.add(module)
                names.update(f"{module}.{part.split()[0]}" for part in _parts(found.group(2)))
            elif found:
                names.update(part.split()[0] for part in _parts(found.group(3)))
        return names
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _parts(text: str) -> list[str]:
    return [part.strip() for part in text.strip("() \t").split(",") if part.strip()]


def notebook_code(notebook: bytes | str) -> list[str]:
    """The sources of a notebook's code cells (none if it is not a readable notebook)."""
    try:
        cells = json.loads(notebook).get("cells", [])
    except (ValueError, AttributeError, UnicodeDecodeError):
        return []
    sources = []
    for cell in cells if isinstance(cells, list) else []:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(part for part in source if isinstance(part, str))
        if isinstance(source, str):
            sources.append(source)
    return sources


def preload_for(
    notebooks: Iterable[bytes | str], candidates: Iterable[str] = DEFAULT_PRELOAD
) -> tuple[str, ...]:
    """The `candidates` (in their order) that some code cell of these notebooks imports, with
    the packages they belong to: what the fork server should import for this batch."""
    wanted: set[str] = set()
    for notebook in notebooks:
        for code in notebook_code(notebook):
            wanted |= imported_modules(code)
    return tuple(
        module
        for module in candidates
        if any(name == module or name.startswith(module + ".") for name in wanted)
    )
