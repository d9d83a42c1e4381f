"""Start-up cost: nbformat imports jsonschema, whose format checker imports `rfc3987_syntax`,
which builds an Earley parser for RFC 3987 at import time (~1.4 s, a third of `lms grade`'s
start-up) although no notebook schema checks an IRI. `defer_rfc3987_syntax` puts a stand-in
module in its place until the first IRI is actually checked; then the real one is imported and
answers, so jsonschema's "iri" and "iri-reference" checks behave exactly as before.
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
