"""Services are free of Flask, refuse only with lms.errors, and every refusal exists in French."""

from __future__ import annotations

import ast
import gettext
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

import lms
import lms.services
from lms.errors import DomainError

LMS = Path(lms.__file__).parent
SERVICES = LMS / "services"
FLASK_PACKAGES = {"flask", "flask_babel", "flask_login", "flask_wtf", "werkzeug.local"}
FRENCH = LMS / "translations" / "fr" / "LC_MESSAGES" / "messages.mo"


def flask_imports(path: Path) -> list[str]:
    """The Flask packages a module imports (at any depth: top level or inside a function)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [
            f"{path}:{node.lineno} imports {name}"
            for name in names
            if any(name == p or name.startswith(p + ".") for p in FLASK_PACKAGES)
        ]
    return found


def test_no_service_imports_flask() -> None:
    modules = sorted(SERVICES.rglob("*.py"))
    assert len(modules) > 10  # the walk does see the services
    assert [line for path in modules for line in flask_imports(path)] == []


def test_the_walk_finds_a_flask_import_anywhere(tmp_path: Path) -> None:
    # The skeptic's check: the test above could not pass by missing an import in a function.
    module = tmp_path / "probe.py"
    module.write_text(
        "import flask_sqlalchemy\n"  # not Flask itself: allowed
        "def f():\n    from flask_babel import gettext\n    import flask.json\n"
    )
    assert len(flask_imports(module)) == 2


def test_every_exception_a_service_defines_is_a_domain_error() -> None:
    strays = []
    for info in pkgutil.iter_modules(lms.services.__path__, "lms.services."):
        module = importlib.import_module(info.name)
        for name, cls in inspect.getmembers(module, inspect.isclass):
            defined_here = cls.__module__ == module.__name__
            if defined_here and issubclass(cls, BaseException) and not issubclass(cls, DomainError):
                strays.append(f"{module.__name__}.{name}")
    assert strays == []


def _marked_messages() -> list[tuple[str, int, str]]:
    return [
        (filename, lineno, message)
        for filename, lineno, message, _comments, _context in extract_from_dir(
            str(LMS), method_map=[("**.py", "python")], keywords={"N_": None}
        )
    ]


def _french() -> gettext.GNUTranslations:
    with FRENCH.open("rb") as compiled:
        return gettext.GNUTranslations(compiled)


def test_every_marked_message_has_a_french_translation() -> None:
    marked = _marked_messages()
    assert len(marked) > 30  # the services' refusals are found
    french = _french()
    untranslated = [
        f"{filename}:{lineno} {message!r}"
        for filename, lineno, message in marked
        if french.gettext(message) == message
    ]
    assert untranslated == []


@pytest.mark.parametrize("name", ["accounts", "manual_grading", "notebooks", "submissions"])
def test_marked_messages_keep_their_catalogue_entries(name: str) -> None:
    # The msgids did not change when the services moved from lazy_gettext to N_.
    in_module = [m for f, _, m in _marked_messages() if f == f"services/{name}.py"]
    assert in_module
    french = _french()
    assert all(french.gettext(m) != m for m in in_module)
