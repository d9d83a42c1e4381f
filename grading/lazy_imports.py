"""Start-up cost, two imports the grader does not need paid for at start.

nbformat imports jsonschema, whose format checker imports `rfc3987_syntax`,
which builds an Earley parser for RFC 3987 at import time (~1.4 s, a third of `lms grade`'s
start-up) although no notebook schema checks an IRI. `defer_rfc3987_syntax` puts a stand-in
module in its place until the first IRI is actually checked; then the real one is imported and
answers, so jsonschema's "iri" and "iri-reference" checks behave exactly as before.

nbgrader's package `__init__` registers its Jupyter server extensions, importing jupyter_server,
tornado and the exchange (about a quarter of `import grading`); the grader uses only its
preprocessors, `utils`, `api` and `nbgraderformat`. `defer_nbgrader_extensions` loads the package
without running that `__init__` (its submodules import as usual); the first access to anything
else of the package's own (e.g. `nbgrader._jupyter_server_extension_points`) runs it then.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any

_NAME = "rfc3987_syntax"
_REAL = f"{_NAME}.syntax_helpers"  # the package's __init__ only re-exports this module


def defer_rfc3987_syntax() -> None:
    """Make `import rfc3987_syntax` cheap until one of its functions is called."""
    if _NAME in sys.modules:
        return
    spec = importlib.util.find_spec(_NAME)
    if spec is None or spec.submodule_search_locations is None:
        return  # not installed: jsonschema simply has no IRI checks, as without us
    stand_in = types.ModuleType(_NAME, __doc__)
    stand_in.__spec__ = spec
    stand_in.__path__ = list(spec.submodule_search_locations)  # its submodules import as usual

    def is_valid_syntax(term: str, value: str) -> bool:
        """rfc3987_syntax.is_valid_syntax, imported on first use."""
        return importlib.import_module(_REAL).is_valid_syntax(term, value)

    def __getattr__(name: str) -> Any:
        return getattr(importlib.import_module(_REAL), name)

    stand_in.is_valid_syntax = is_valid_syntax  # type: ignore[attr-defined]
    stand_in.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules[_NAME] = stand_in


def defer_nbgrader_extensions() -> None:
    """Make `import nbgrader.<submodule>` skip nbgrader's server extensions until asked for."""
    if "nbgrader" in sys.modules:
        return
    spec = importlib.util.find_spec("nbgrader")
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return
    package = importlib.util.module_from_spec(spec)  # created, its __init__ not run
    state = {"loaded": False}

    def __getattr__(name: str) -> Any:
        if name.startswith("__") or state["loaded"]:
            raise AttributeError(name)
        if importlib.util.find_spec(f"nbgrader.{name}") is not None:
            # `from nbgrader import utils`: a submodule, imported as usual.
            return importlib.import_module(f"nbgrader.{name}")
        state["loaded"] = True
        spec.loader.exec_module(package)  # the real __init__, into the same module
        return getattr(package, name)

    package.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules["nbgrader"] = package
