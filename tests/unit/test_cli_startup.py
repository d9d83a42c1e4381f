"""`lms` imports only what the command it runs needs: `lms --help` none of the heavy parts."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from lms.cli import COMMANDS, main

HEAVY = ("flask", "sqlalchemy", "nbgrader", "nbformat", "celery", "pandas", "numpy", "jsonschema")


def _modules_after(argv: list[str]) -> set[str]:
    """The top-level packages imported by running `lms ARGV` in a fresh interpreter."""
    probe = (
        "import json, sys\n"
        "from lms.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, check=True
    )
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize("argv", [["--help"], [], ["release", "--help"], ["grade", "--help"]])
def test_help_imports_none_of_the_heavy_parts(argv: list[str]) -> None:
    imported = _modules_after(argv)
    assert "click" in imported  # the probe did run the command line
    assert imported.isdisjoint(HEAVY), sorted(imported & set(HEAVY))


def test_the_list_of_commands_is_the_commands() -> None:
    """COMMANDS names every command, its module and its help's first sentence, exactly."""
    for module in {module for module, _help in COMMANDS.values()}:
        importlib.import_module(module)
    ctx = click.Context(main)
    assert set(main.commands) == set(COMMANDS)
    for name, (module, first_sentence) in COMMANDS.items():
        command = main.get_command(ctx, name)
        assert command.callback.__module__ == module, name
        for limit in (45, 80, 1000):
            listed = click.Command(name, help=first_sentence)
            assert listed.get_short_help_str(limit) == command.get_short_help_str(limit), name


def test_a_command_still_runs_and_an_unknown_one_is_refused() -> None:
    assert "--timeout" in CliRunner().invoke(main, ["grade", "--help"]).output
    unknown = CliRunner().invoke(main, ["gradee"])
    assert unknown.exit_code == 2 and "No such command 'gradee'" in unknown.output
    listing = CliRunner().invoke(main, ["--help"]).output
    assert all(name in listing for name in COMMANDS)


_IRI_CHECKS = (
    "import json, sys\n"
    "{first}\n"
    "import jsonschema\n"
    "checker = jsonschema.FormatChecker()\n"
    "loaded = 'rfc3987_syntax.syntax_helpers' in sys.modules\n"
    "values = ['http://example.org/\\u00e9t\\u00e9', 'not an iri', 'a b', '#frag', 'mailto:x@y']\n"
    "answers = [[checker.conforms(v, f) for f in ('iri', 'iri-reference')] for v in values]\n"
    "print(json.dumps([loaded, answers]))\n"
)


def _iri_run(first: str) -> list:
    done = subprocess.run(
        [sys.executable, "-c", _IRI_CHECKS.format(first=first)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(done.stdout)


def test_the_grader_defers_rfc3987_syntax_and_iri_checks_are_unchanged() -> None:
    """`import grading` does not build the RFC 3987 parser; jsonschema still checks IRIs alike."""
    deferred_loaded, deferred = _iri_run("import grading")
    stock_loaded, stock = _iri_run("pass")
    assert (deferred_loaded, stock_loaded) == (False, True)
    assert deferred == stock
    assert [False, False] in stock and [True, True] in stock  # the checks do discriminate


def test_the_grader_skips_nbgraders_server_extensions_until_asked() -> None:
    """`import grading` loads nbgrader's preprocessors without its Jupyter server extensions;
    asking the package for one of its own names runs its __init__ then, as a plain import."""
    script = (
        "import json, sys\n"
        "import grading\n"
        "before = 'nbgrader.server_extensions' in sys.modules\n"
        "import nbgrader\n"
        "points = nbgrader._jupyter_server_extension_points()\n"
        "print(json.dumps([before, 'nbgrader.server_extensions' in sys.modules, points]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout) == [False, True, [{"module": "nbgrader"}]]
