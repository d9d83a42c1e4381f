"""`grading/` is its own world: it imports neither Flask nor `lms`."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

GRADING = Path(__file__).resolve().parents[2] / "grading"


def test_importing_the_grader_loads_neither_flask_nor_lms() -> None:
    modules = sorted(
        "grading." + ".".join(p.relative_to(GRADING).with_suffix("").parts)
        for p in GRADING.rglob("*.py")
        if p.name != "__init__.py"
    )
    code = (
        "import sys, importlib\n"
        f"for name in ['grading', *{modules!r}]:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'lms'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=GRADING.parent,
    )
    assert out.stdout.strip() == "", out.stdout


def test_no_grading_source_names_flask_or_lms() -> None:
    offenders = []
    for path in GRADING.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in ("flask", "lms")]
    assert offenders == []
