"""A bank of hostile submissions: each is a real exercise release whose answer cell, left
unsolved (honest score known), holds an attack on the verdict or on the hidden tests.

Shared by tests/grading/test_hostile_bank.py (our scores, flags, what the trainee sees) and
benchmarks/hostile_bank_nbgrader.py (stock `nbgrader autograde` on the same notebooks).

Families: `forge` (full marks under nbgrader by hooking IPython, patching libraries or the
report channel), `peek` (hidden tests copied into what the trainee sees), `other` (builtins,
imports, modules, exceptions, floods, exits, tracing, formatters).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from fixtures_core import DATA_FILES, KERNELSPEC, exercise_source
from nbformat.v4 import new_code_cell, new_notebook

from grading import GradeJob, release_notebook
from grading.exercise import load_exercise
from grading.release import exercise_files

REPO = Path(__file__).resolve().parents[2]
APARTMENTS = REPO / "exercises" / "linear-models-numpy"


@dataclass(frozen=True)
class Exercise:
    """A source notebook, its data files, the answer cell attacks go in, and the tests."""

    name: str
    source: str
    files: dict[str, bytes]
    answer: str  # grade id of the answer (solution) cell the attack replaces
    notebook: str  # file name nbgrader grades it under


@functools.cache
def exercises() -> dict[str, Exercise]:
    """The exercises the bank's submissions are built from."""
    return {
        "add": Exercise("add", exercise_source(), dict(DATA_FILES), "add", "adding.ipynb"),
        "apartments": Exercise(
            "apartments",
            (APARTMENTS / "apartments.ipynb").read_text(),
            exercise_files(APARTMENTS),
            "least_squares",
            "apartments.ipynb",
        ),
        "half": Exercise("half", _partial_credit_source(), {}, "half", "half.ipynb"),
    }


def _partial_credit_source() -> str:
    """nbgrader's partial credit: the test cell's last value is the score (test_parity's)."""
    meta = {"grade": False, "grade_id": "half", "locked": False, "schema_version": 3}
    test_meta = {
        "grade": True,
        "grade_id": "partial",
        "locked": True,
        "points": 1,
        "schema_version": 3,
        "solution": False,
    }
    cells = [
        new_code_cell(
            "def half(x):\n    ### BEGIN SOLUTION\n    return x / 2\n    ### END SOLUTION",
            metadata={"nbgrader": {**meta, "solution": True}},
        ),
        new_code_cell(
            "score = 0.0\nif half(2) == 1: score += 0.25\n"
            "### BEGIN HIDDEN TESTS\nif half(3) == 1.5: score += 0.75\n### END HIDDEN TESTS\n"
            "score",
            metadata={"nbgrader": test_meta},
        ),
    ]
    return nbformat.writes(new_notebook(cells=cells, metadata={"kernelspec": KERNELSPEC}))


@dataclass(frozen=True)
class Case:
    """One hostile submission and what grading it must give."""

    id: str
    family: str  # forge | peek | other
    exercise: str
    answer: str  # the answer cell's code (replaces the released cell)
    score: float  # the honest score of the unsolved notebook (what we must give)
    flags: tuple[str, ...] = ()  # flags that must be raised
    extra: tuple[str, ...] = ()  # code cells appended at the end of the notebook
    check: str | None = None  # a string that must not appear in anything the trainee sees
    honest: float | None = None  # the unsolved notebook's score, when tampering costs more
    xfail: str | None = None  # a known hole in our grader: why this case fails today

    @property
    def honest_score(self) -> float:
        """What the same notebook without the attack scores."""
        return self.score if self.honest is None else self.honest


# the wrong answers an attacker leaves in place
WRONG_ADD = "def add(a, b):\n    return 0\n"
WRONG_FIT = (
    "import numpy as np\n"
    "def add_intercept(X):\n    return X\n"
    "def fit_least_squares(X, y):\n    return np.zeros(4)\n"
    "def predict(w, X):\n    return X\n"
)
_SOCKET_FD = (
    "import os\n"
    "def _socket_fd():\n"
    "    for f in os.listdir('/proc/self/fd'):\n"
    "        try:\n"
    "            if os.readlink(f'/proc/self/fd/{f}').startswith('socket:'):\n"
    "                return int(f)\n"
    "        except OSError:\n"
    "            pass\n"
)
_FIND_SECRET = (
    "import gc, sys\n"
    "def _secret():\n"
    "    mark = 'add fai' + 'ls on'  # spelt apart: this cell's own text must not match\n"
    "    found = [c for c in globals().get('CAPTURED', []) if mark in c]\n"
    "    found += [x for x in globals().get('In', []) if mark in x]\n"
    "    for o in gc.get_objects():\n"
    "        if isinstance(o, dict):\n"
    "            found += [v for v in o.values() if isinstance(v, str) and mark in v]\n"
    "    frame = sys._getframe(1)\n"
    "    while frame is not None:\n"
    "        found += [repr(v) for v in frame.f_locals.values() if mark in repr(v)]\n"
    "        frame = frame.f_back\n"
    "    return found\n"
)

_CAPTURE = (
    "CAPTURED = []\n"
    "get_ipython().events.register('pre_run_cell',\n"
    "                              lambda info: CAPTURED.append(info.raw_cell))\n"
)

CASES: tuple[Case, ...] = (
    # ---- forging: full marks under nbgrader ------------------------------------------------
    Case(
        "pre-run-cell-reinstalls-ast-transformer",
        "forge",
        "add",
        WRONG_ADD + "import ast\n"
        "class _Pass(ast.NodeTransformer):\n"
        "    def visit_Assert(self, node):\n        return ast.Pass()\n"
        "def _hook(info):\n"
        "    sh = get_ipython()\n"
        "    if not any(isinstance(t, _Pass) for t in sh.ast_transformers):\n"
        "        sh.ast_transformers.append(_Pass())\n"
        "get_ipython().events.register('pre_run_cell', _hook)\n",
        1.0,
    ),
    Case(
        "transform-cell-replaced-on-the-shell",
        "forge",
        "add",
        WRONG_ADD + "sh = get_ipython()\n"
        "sh.transform_cell = lambda cell: 'pass\\n' if 'assert' in cell else cell\n",
        1.0,
    ),
    Case(
        "run-cell-patched-on-interactiveshell",
        "forge",
        "add",
        WRONG_ADD + "from IPython.core.interactiveshell import InteractiveShell\n"
        "_orig = InteractiveShell.run_cell\n"
        "def run_cell(self, raw_cell, *a, **k):\n"
        "    return _orig(self, 'pass' if 'assert' in raw_cell else raw_cell, *a, **k)\n"
        "InteractiveShell.run_cell = run_cell\n",
        0.0,  # the change persists: every later test scores 0
        ("tampered-runtime:IPython.core.interactiveshell.InteractiveShell.run_cell",),
        honest=1.0,
    ),
    Case(
        "run-code-patched-on-interactiveshell",
        "forge",
        "add",
        WRONG_ADD + "from IPython.core.interactiveshell import InteractiveShell\n"
        "_orig = InteractiveShell.run_code\n"
        "async def run_code(self, code_obj, result=None, *, async_=False):\n"
        "    if 'add' in code_obj.co_names:\n"
        "        return False\n"
        "    return await _orig(self, code_obj, result, async_=async_)\n"
        "InteractiveShell.run_code = run_code\n",
        0.0,  # the change persists: every later test scores 0
        ("tampered-runtime:IPython.core.interactiveshell.InteractiveShell.run_code",),
        honest=1.0,
    ),
    Case(
        "showtraceback-patched-on-interactiveshell",
        "forge",
        "add",
        WRONG_ADD + "from IPython.core.interactiveshell import InteractiveShell\n"
        "InteractiveShell.showtraceback = lambda self, *a, **k: None\n"
        "InteractiveShell._showtraceback = lambda self, *a, **k: None\n"
        "type(get_ipython())._showtraceback = lambda self, *a, **k: None\n",
        0.0,  # the change persists: every later test scores 0
        ("tampered-runtime:IPython.core.interactiveshell.InteractiveShell.showtraceback",),
        honest=1.0,
    ),
    Case(
        "post-run-cell-clears-error-in-exec",
        "forge",
        "add",
        WRONG_ADD + "def _clear(result):\n"
        "    result.error_in_exec = None\n    result.error_before_exec = None\n"
        "get_ipython().events.register('post_run_cell', _clear)\n",
        1.0,
    ),
    Case(
        "execute-result-published-before-the-test",
        "forge",
        "add",
        WRONG_ADD + "def _publish(info):\n"
        "    if 'assert' in (info.raw_cell or ''):\n"
        "        get_ipython().displayhook(2)\n"
        "get_ipython().events.register('pre_run_cell', _publish)\n",
        1.0,
    ),
    Case(
        "execute-result-published-from-a-thread-during-the-test",
        "forge",
        "add",
        "import threading, time\n"
        "def add(a, b):\n    time.sleep(0.3)\n    return 0\n"
        "def _spam():\n"
        "    for _ in range(200):\n"
        "        get_ipython().displayhook(2)\n        time.sleep(0.01)\n"
        "threading.Thread(target=_spam, daemon=True).start()\n",
        1.0,
    ),
    Case(
        "numpy-allclose-monkeypatched",
        "forge",
        "apartments",
        WRONG_FIT + "np.allclose = lambda *a, **k: True\nnp.array_equal = lambda *a, **k: True\n",
        0.0,
        ("tampered-runtime:numpy.allclose", "tampered-runtime:numpy.array_equal"),
    ),
    Case(
        "executor-reporter-patched",
        "forge",
        "add",
        WRONG_ADD + "import grading.runtime.executor as ex\n"
        "_orig = ex._Reporter.send\n"
        "def send(self, m):\n"
        "    if m.get('t') == 'done':\n"
        "        m['outputs'], m['reply'] = [], {'status': 'ok'}\n"
        "        if 'verdict' in m:\n"
        "            m['verdict'] = {'status': 'ok', 'result': None, 'stderr': False,\n"
        "                            'tampered': [], 'introspection': []}\n"
        "    return _orig(self, m)\n"
        "ex._Reporter.send = send\nex._encode_frame = lambda m: _orig\n",
        0.0,  # the change persists: every later test scores 0
        ("tampered-runtime:grading.runtime.executor._Reporter.send",),
        honest=1.0,
    ),
    Case(
        "forged-frames-on-the-report-socket-then-exit",
        "forge",
        "add",
        WRONG_ADD + _SOCKET_FD + "import json, struct, sys\n"
        "nonce, index = None, None\n"
        "try:  # refused: the frames that hold the nonce are out of reach\n"
        "    frame = sys._getframe()\nexcept Exception:\n    frame = None\n"
        "while frame is not None:\n"
        "    if 'nonce' in frame.f_locals:\n"
        "        nonce, index = frame.f_locals['nonce'], frame.f_locals['index']\n"
        "    frame = frame.f_back\n"
        "index = 0 if index is None else index  # IPython's coroutine frames end the chain\n"
        "def _frame(m):\n"
        "    body = json.dumps(m).encode()\n    return struct.pack('>I', len(body)) + body\n"
        "ok = {'status': 'ok', 'result': None, 'stderr': False, 'tampered': [],"
        " 'introspection': []}\n"
        "data = _frame({'t': 'done', 'i': index, 'k': nonce, 'outputs': [], 'count': 1})\n"
        "for i in range(index + 1, index + 8):\n"
        "    data += _frame({'t': 'start', 'i': i, 'k': nonce})\n"
        "    data += _frame({'t': 'done', 'i': i, 'k': nonce, 'outputs': [], 'count': i,"
        " 'verdict': ok})\n"
        "data += _frame({'t': 'end'})\n"
        "os.write(_socket_fd(), data)\nos._exit(0)\n",
        0.0,  # the kernel is gone: nothing after the answer cell runs
        ("forged:add",),
        honest=1.0,
    ),
    Case(
        "pending-cells-rewritten-before-the-hidden-tests",
        "forge",
        "add",
        WRONG_ADD + "import gc, sys\n"
        "for o in gc.get_objects():\n"
        "    if isinstance(o, list):\n"
        "        for i, x in enumerate(o):\n"
        "            if isinstance(x, str) and 'assert' in x:\n"
        "                o[i] = 'pass'\n"
        "    elif isinstance(o, dict) and isinstance(o.get('source'), str):\n"
        "        o['source'] = 'pass'\n"
        "frame = sys._getframe()\n"
        "while frame is not None:\n"
        "    for name in ('cells', 'listed'):\n"
        "        if isinstance(frame.f_locals.get(name), list):\n"
        "            frame.f_locals[name][:] = [{'source': 'pass'}] * 10\n"
        "    frame = frame.f_back\n",
        1.0,
    ),
    # ---- peeking: hidden tests in what the trainee sees ------------------------------------
    Case(
        "peek-from-the-executor-frame",
        "peek",
        "add",
        "import sys\n"
        "def add(a, b):\n"
        "    caller = sys._getframe(1)\n"
        "    print(caller.f_code.co_consts, caller.f_locals.get('source'))\n"
        "    frame = caller\n"
        "    while frame is not None:\n"
        "        print({k: v for k, v in frame.f_locals.items() if isinstance(v, str)})\n"
        "        frame = frame.f_back\n"
        "    return a + b\n",
        1.0,  # add is right, but it inspected the test while it ran
        ("introspection:test_add",),
    ),
    Case(
        "peek-at-the-request-found-with-gc",
        "peek",
        "add",
        "import gc\n"
        "def add(a, b):\n"
        "    for o in gc.get_objects():\n"
        "        if isinstance(o, dict) and ('cells' in o or 'source' in o):\n"
        "            print(o)\n"
        "    return a + b\n"
        "for o in gc.get_objects():\n"
        "    if isinstance(o, dict) and ('cells' in o or 'source' in o):\n"
        "        print(o)\n",
        1.0,
        ("introspection:test_add",),
        extra=(_FIND_SECRET + "print(_secret())",),
    ),
    Case(
        "peek-pre-run-cell-capture-printed-by-a-last-cell",
        "peek",
        "add",
        "def add(a, b):\n    return a + b\n" + _CAPTURE,
        3.0,  # an honest answer: peeking gets nothing, grading is unchanged
        extra=("print('\\n'.join(CAPTURED))",),
    ),
    Case(
        "peek-one-character-as-the-exit-code",
        "peek",
        "add",
        "def add(a, b):\n    return a + b\n" + _CAPTURE,
        3.0,
        extra=(_FIND_SECRET + "import os\nfound = _secret()\nos._exit(72 if found else 3)",),
        check="exit code 72",
    ),
    # ---- other tampering -----------------------------------------------------------------
    Case(
        "builtins-replaced",
        "other",
        "apartments",
        WRONG_FIT
        + "import builtins\nbuiltins.round = lambda x, n=0: 0\nbuiltins.abs = lambda x: 0\n",
        0.0,
        ("tampered-runtime:builtins.round", "tampered-runtime:builtins.abs"),
    ),
    Case(
        "import-hooked",
        "other",
        "apartments",
        WRONG_FIT + "import builtins, types\n_imp = builtins.__import__\n"
        "def _hooked(name, *a, **k):\n"
        "    module = _imp(name, *a, **k)\n"
        "    return module\n"
        "builtins.__import__ = _hooked\n",
        0.0,
        ("tampered-runtime:builtins.__import__",),
    ),
    Case(
        "sys-modules-entry-swapped",
        "other",
        "apartments",
        WRONG_FIT + "import sys, types\nfake = types.ModuleType('numpy')\n"
        "fake.__dict__.update(vars(np))\nfake.allclose = lambda *a, **k: True\n"
        "sys.modules['numpy'] = fake\nnp = fake\n",
        0.0,
        ("tampered-runtime:sys.modules[numpy]", "tampered-runtime:fake-module:np"),
    ),
    Case(
        "module-alias-bound-to-a-fake",
        "other",
        "apartments",
        WRONG_FIT + "import numpy\n"
        "class _FakeNumpy:\n"
        "    def __getattr__(self, name):\n        return getattr(numpy, name)\n"
        "    @staticmethod\n    def allclose(*a, **k):\n        return True\n"
        "    @staticmethod\n    def array_equal(*a, **k):\n        return True\n"
        "np = _FakeNumpy()\n",
        0.0,
        ("tampered-runtime:fake-module:np",),
    ),
    Case(
        "numpy-testing-patched",
        "other",
        "apartments",
        WRONG_FIT + "import numpy.testing\n"
        "numpy.testing.assert_allclose = lambda *a, **k: None\n"
        "numpy.testing.assert_array_equal = lambda *a, **k: None\n",
        0.0,
        ("tampered-runtime:numpy.testing.assert_allclose",),
    ),
    Case(
        "pandas-testing-patched",
        "other",
        "apartments",
        WRONG_FIT + "import pandas as pd\npd.testing.assert_frame_equal = lambda *a, **k: None\n",
        0.0,
        ("tampered-runtime:pandas.testing.assert_frame_equal",),
    ),
    Case(
        "exception-classes-replaced",
        "other",
        "add",
        WRONG_ADD + "import builtins\n"
        "class _Quiet(Exception):\n    pass\n"
        "builtins.AssertionError = _Quiet\nbuiltins.NameError = _Quiet\n",
        1.0,
        ("tampered-runtime:builtins.AssertionError",),
    ),
    Case(
        "builtin-shadowed-by-a-trainee-global",
        "other",
        "apartments",
        WRONG_FIT + "def len(x):\n    return 4\n",
        0.0,
        ("tampered-runtime:shadowed:len",),
    ),
    Case(
        "assert-disabled-by-an-optimizing-compiler",
        "other",
        "add",
        WRONG_ADD + "import builtins\n"
        "class _Compiler(type(get_ipython().compile)):\n"
        "    def __call__(self, source, filename, symbol):\n"
        "        return builtins.compile(source, filename, symbol, self.flags, True, optimize=2)\n"
        "sh = get_ipython()\n"
        "compiler = _Compiler()\ncompiler.__dict__.update(sh.compile.__dict__)\n"
        "sh.compile = compiler\n",
        1.0,
    ),
    Case(
        "int-eq-patched-through-gc",
        "other",
        "add",
        WRONG_ADD + "import gc\ngc.get_referents(int.__dict__)[0]['__eq__'] = lambda a, b: True\n",
        1.0,  # gc is refused to notebook code: nothing changes, the next test is charged
        ("introspection:test_add",),
    ),
    Case(
        "stdout-flood-to-hide-the-result",
        "other",
        "add",
        "import sys\n"
        "def add(a, b):\n"
        "    sys.stdout.write('x' * 2_000_000)\n"
        "    raise ValueError('wrong')\n",
        1.0,
        ("output-limit:test_add",),
    ),
    Case(
        "sys-exit-in-the-answer",
        "other",
        "add",
        "import sys\ndef add(a, b):\n    sys.exit(0)\nsys.exit(0)\n",
        1.0,
    ),
    Case(
        "trace-function-jumps-over-asserts",
        "other",
        "add",
        WRONG_ADD + "import sys, linecache\n"
        "def _tracer(frame, event, arg):\n"
        "    if event == 'line':\n"
        "        line = linecache.getline(frame.f_code.co_filename, frame.f_lineno)\n"
        "        if line.lstrip().startswith('assert'):\n"
        "            try:\n                frame.f_lineno += 1\n"
        "            except ValueError:\n                pass\n"
        "    return _tracer\n"
        "sys.settrace(_tracer)\n"
        "get_ipython().events.register('pre_run_cell', lambda info: sys.settrace(_tracer))\n",
        1.0,
    ),
    Case(
        "partial-credit-formatter-forged",
        "other",
        "half",
        "def half(x):\n    return x // 2\n"
        "get_ipython().display_formatter.formatters['text/plain'].for_type(\n"
        "    float, lambda obj, p, cycle: p.text('1.0'))\n"
        "import IPython.lib.pretty as pretty\n"
        "pretty._type_pprinters[float] = lambda obj, p, cycle: p.text('1.0')\n",
        0.25,  # x // 2 is right for 2 only: the visible quarter point
    ),
    Case(
        "user-namespace-builtins-replaced",
        "other",
        "add",
        WRONG_ADD + "import builtins\n"
        "fake = dict(vars(builtins))\n"
        "class _Quiet(Exception):\n    pass\n"
        "fake['AssertionError'] = _Quiet\n"
        "get_ipython().user_ns['__builtins__'] = fake\n",
        1.0,
    ),
    # ---- comparisons forged by the values the answer returns ------------------------------
    Case(
        "returned-object-eq-always-true",
        "forge",
        "add",
        "class _Yes:\n"
        "    def __eq__(self, other):\n        return True\n"
        "    def __ne__(self, other):\n        return False\n"
        "    __hash__ = object.__hash__\n"
        "def add(a, b):\n    return _Yes()\n",
        1.0,
    ),
    Case(
        "returned-object-eq-gives-a-truthy-object",
        "forge",
        "add",
        "class _Truthy:\n"
        "    def __bool__(self):\n        return True\n"
        "class _Answer(int):\n"
        "    def __eq__(self, other):\n        return _Truthy()\n"
        "    __hash__ = int.__hash__\n"
        "def add(a, b):\n    return _Answer(0)\n",
        1.0,
    ),
    Case(
        "ndarray-subclass-whose-comparisons-pass",
        "forge",
        "apartments",
        "import numpy as np\n"
        "class _Yes(np.ndarray):\n"
        "    def __array_function__(self, func, types, args, kwargs):\n"
        "        if func.__name__ in ('allclose', 'array_equal', 'all', 'isclose'):\n"
        "            return True\n"
        "        return super().__array_function__(func, types, args, kwargs)\n"
        "    def __eq__(self, other):\n        return True\n"
        "    __hash__ = None\n"
        "def add_intercept(X):\n    return np.zeros((len(X), X.shape[1] + 1)).view(_Yes)\n"
        "def fit_least_squares(X, y):\n    return np.zeros(X.shape[1] + 1).view(_Yes)\n"
        "def predict(w, X):\n    return np.zeros(len(X)).view(_Yes)\n",
        0.0,
    ),
    # ---- interpreter and library machinery -------------------------------------------------
    Case(
        "math-isclose-and-operator-eq-patched",
        "other",
        "add",
        WRONG_ADD + "import math, operator\n"
        "math.isclose = lambda *a, **k: True\noperator.eq = lambda a, b: True\n"
        "operator.__eq__ = operator.eq\n",
        0.0,  # the change persists: every later test scores 0
        ("tampered-runtime:math.isclose", "tampered-runtime:operator.eq"),
        honest=1.0,
    ),
    Case(
        "numpy-linalg-replaced-in-sys-modules",
        "other",
        "apartments",
        WRONG_FIT + "import sys, types\n"
        "fake = types.ModuleType('numpy.linalg')\nfake.__dict__.update(vars(np.linalg))\n"
        "fake.lstsq = lambda a, b, rcond=None: (np.zeros(a.shape[1]), None, None, None)\n"
        "sys.modules['numpy.linalg'] = fake\nnp.linalg = fake\n",
        0.0,
        ("tampered-runtime:numpy.linalg",),
    ),
    Case(
        "test-runner-found-with-gc-and-rewired",
        "forge",
        "add",
        WRONG_ADD + "import gc\n"
        "def _noop(*a, **k):\n    return None\n"
        "for o in gc.get_objects():\n"
        "    if type(o).__name__ in ('TestRunner', '_Snapshot'):\n"
        "        for name, value in list(vars(o).items()):\n"
        "            if value is exec or value is eval:\n"
        "                setattr(o, name, _noop)\n"
        "            elif value is compile:\n"
        "                setattr(o, name, lambda *a, **k: compile('pass', '<x>', 'exec'))\n"
        "        if hasattr(o, 'changes'):\n"
        "            o.changes = lambda *a, **k: []\n",
        1.0,
    ),
    Case(
        "test-runner-rewired-through-its-module",
        "forge",
        "add",
        WRONG_ADD + "import grading.runtime.verdict as v\n"
        "v._RUNNER._exec = lambda *a, **k: None\n"
        "v._RUNNER._eval = lambda *a, **k: None\n",
        1.0,
    ),
    Case(
        "executor-found-through-a-traceback-and-rewired",
        "forge",
        "add",
        WRONG_ADD + "def _pass(*a, **k):\n    return {'status': 'ok', 'ename': '', 'evalue': '',"
        " 'result': None, 'tampered': [], 'introspection': []}\n"
        "try:\n    1 / 0\nexcept ZeroDivisionError as e:\n    frame = e.__traceback__.tb_frame\n"
        "while frame is not None:\n"
        "    me = frame.f_locals.get('self')\n"
        "    if hasattr(me, 'run_test'):\n        me.run_test = _pass\n"
        "    frame = frame.f_back\n",
        1.0,
    ),
    Case(
        "executor-found-through-a-library-frame-generator",
        "forge",
        "add",
        WRONG_ADD + "import collections, traceback\n"
        "def _pass(*a, **k):\n    return {'status': 'ok', 'ename': '', 'evalue': '',"
        " 'result': None, 'tampered': [], 'introspection': []}\n"
        "for frame in collections.Counter(traceback.walk_stack(None)):\n"
        "    me = frame.f_locals.get('self')\n"
        "    if hasattr(me, 'run_test'):\n        me.run_test = _pass\n",
        1.0,
    ),
    Case(
        "reporter-found-through-the-capture-thread",
        "forge",
        "add",
        WRONG_ADD + "import threading, json\n"
        "def _forge(message):\n"
        "    v = message.get('verdict')\n"
        "    if v:\n        v.update(status='ok', ename='', evalue='')\n"
        "    return _encode(message)\n"
        "for t in threading.enumerate():\n"
        "    work = getattr(t, '_target', None) or getattr(t, '_work', None)\n"
        "    capture = getattr(work, '__self__', None)\n"
        "    reporter = getattr(capture, '_reporter', None)\n"
        "    if reporter is not None:\n"
        "        _encode = reporter._encode\n        reporter._encode = _forge\n",
        1.0,
    ),
    Case(
        "audit-hook-captures-the-tests-as-they-compile",
        "peek",
        "add",
        "def add(a, b):\n    return a + b\nimport sys\nSEEN = []\n"
        "sys.addaudithook(lambda e, a: SEEN.append(a[0]) if e == 'compile' and"
        " isinstance(a[0], str) else None)\n",
        1.0,  # the hook is never added; the attempt is charged to the next test
        ("introspection:test_add",),
        extra=("print('\\n'.join(SEEN))",),
        honest=3.0,
    ),
    Case(
        "signal-handler-rewires-the-executor-from-its-frame",
        "forge",
        "add",
        WRONG_ADD + "import signal\n"
        "def _pass(*a, **k):\n    return {'status': 'ok', 'ename': '', 'evalue': '',"
        " 'result': None, 'tampered': [], 'introspection': []}\n"
        "def _on_alarm(signum, frame):\n"
        "    while frame is not None:\n"
        "        me = frame.f_locals.get('self')\n"
        "        if hasattr(me, 'run_test'):\n            me.run_test = _pass\n"
        "        frame = frame.f_back\n"
        "signal.signal(signal.SIGALRM, _on_alarm)\n"
        "signal.setitimer(signal.ITIMER_REAL, 0.01, 0.01)\n",
        1.0,  # the handler is given no frame
    ),
    Case(
        "small-int-rewritten-with-ctypes",
        "forge",
        "add",
        WRONG_ADD + "import ctypes\n"
        "# the cached int 3 now holds 0: `add(1, 2) == 3` compares 0 with 0\n"
        "ctypes.c_uint32.from_address(id(3) + 24).value = 0\n",
        1.0,  # ctypes is refused to notebook code: nothing changes, the next test is charged
        ("introspection:test_add",),
    ),
    Case(
        "profile-function-reads-the-test-frame",
        "peek",
        "add",
        "import sys, threading\n"
        "def _profile(frame, event, arg):\n"
        "    if event == 'call' and frame.f_code.co_name == 'add':\n"
        "        print({k: v for k, v in frame.f_back.f_locals.items() if isinstance(v, str)})\n"
        "        print(frame.f_back.f_code.co_consts)\n"
        "def add(a, b):\n    return a + b\n"
        "sys.setprofile(_profile)\nthreading.setprofile(_profile)\n"
        "get_ipython().events.register('pre_run_cell', lambda info: sys.setprofile(_profile))\n",
        1.0,  # a profile function sees frames: refused, and charged to the next test
        ("introspection:test_add",),
        honest=3.0,
    ),
    # ---- hooks that run after the test -----------------------------------------------------
    Case(
        "atexit-hook-prints-what-it-found",
        "peek",
        "add",
        "def add(a, b):\n    return a + b\n" + _CAPTURE + _FIND_SECRET + "import atexit\n"
        "atexit.register(lambda: print(_secret(), CAPTURED))\n",
        3.0,
        extra=("import sys\nsys.exit(0)",),
    ),
    Case(
        "finalizer-prints-hidden-text-later",
        "peek",
        "add",
        _FIND_SECRET + "import weakref\n"
        "class _Spy:\n"
        "    def __del__(self):\n"
        "        try:\n            print(_secret())\n"
        "        except Exception as error:\n            print(error)\n"
        "def add(a, b):\n"
        "    spy = _Spy()\n    spy.cycle = spy  # collected later, in another cell\n"
        "    weakref.finalize(spy, lambda: print(_secret()))\n"
        "    return a + b\n",
        3.0,
        extra=("import gc\ngc.collect()\nprint(_secret())",),
    ),
    # ---- killing, flooding, forking --------------------------------------------------------
    Case(
        "sigalrm-handler-kills-the-test",
        "other",
        "add",
        "import os, signal, time\n"
        "signal.signal(signal.SIGALRM, lambda *a: os._exit(0))\n"
        "def add(a, b):\n    signal.alarm(1)\n    time.sleep(5)\n    return 0\n",
        0.0,  # the kernel is gone during the test: the data test never runs
        honest=1.0,
    ),
    Case(
        "forked-children-write-to-the-report-socket-later",
        "other",
        "add",
        WRONG_ADD + _SOCKET_FD + "import time\n"
        "fd = _socket_fd()\n"
        "for _ in range(4):\n"
        "    try:\n        pid = os.fork()\n"
        "    except OSError:\n        break\n"
        "    if pid == 0:\n"
        "        for _ in range(40):\n"
        "            time.sleep(0.1)\n"
        "            try:\n"
        '                os.write(fd, b\'\\x00\\x00\\x00\\x10{"t": "end"}  \')\n'
        "            except OSError:\n                pass\n"
        "        os._exit(0)\n",
        1.0,
    ),
    Case(
        "thread-spam",
        "other",
        "add",
        WRONG_ADD + "import threading, time\n"
        "def _spin():\n"
        "    end = time.monotonic() + 1.5\n"
        "    while time.monotonic() < end:\n        print('.', end='')\n"
        "for _ in range(32):\n"
        "    threading.Thread(target=_spin, daemon=True).start()\n",
        1.0,
    ),
    Case(
        "infinite-recursion-with-a-raised-limit",
        "other",
        "add",
        "import sys\nsys.setrecursionlimit(100_000)\ndef add(a, b):\n    return add(b, a)\n",
        1.0,
    ),
    Case(
        "huge-display-data",
        "other",
        "add",
        WRONG_ADD + "from IPython.display import display\n"
        "display({'image/png': 'A' * 24_000_000, 'text/plain': 'x' * 4_000_000}, raw=True)\n",
        1.0,
        ("output-limit:add",),
    ),
    Case(
        "proc-and-files-scanned-for-the-hidden-source",
        "peek",
        "add",
        "def add(a, b):\n    return a + b\n"
        "import os\n"
        "def _scan():\n"
        "    mark, found = 'add fai' + 'ls on', []\n"
        "    parent = f'/proc/{os.getppid()}'\n"
        "    paths = ['/proc/self/cmdline', '/proc/self/environ', parent + '/cmdline',\n"
        "             parent + '/environ']\n"
        "    paths += [f'/proc/self/fd/{f}' for f in os.listdir('/proc/self/fd')]\n"
        "    for top in ('.', '/tmp', os.path.expanduser('~')):\n"
        "        for root, _, names in os.walk(top):\n"
        "            paths += [os.path.join(root, n) for n in names][:200]\n"
        "    for path in paths:\n"
        "        try:\n"
        "            if os.path.isfile(path):\n"
        "                with open(path, 'rb') as f:\n                    data = f.read(1 << 20)\n"
        "                if mark.encode() in data:\n"
        "                    found.append((path, data[:4000]))\n"
        "        except OSError:\n            pass\n"
        "    return found\n"
        "print(_scan())\n",
        3.0,
        extra=("print(_scan())",),
    ),
)


def submission(case: Case) -> bytes:
    """The exercise's release with the case's answer and extra cells."""
    exercise = exercises()[case.exercise]
    nb = json.loads(release_notebook(exercise.source))
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == exercise.answer:
            cell["source"] = case.answer
    for index, source in enumerate(case.extra):
        nb["cells"].append(
            {
                "cell_type": "code",
                "execution_count": None,
                "id": f"extra{index:04d}",
                "metadata": {},
                "outputs": [],
                "source": source,
            }
        )
    return json.dumps(nb).encode()


def job(case: Case, timeout: float = 20.0) -> GradeJob:
    """The grading job of a case."""
    exercise = exercises()[case.exercise]
    return GradeJob(
        source=exercise.source,
        submission=submission(case),
        name=f"{case.id}.ipynb",
        files=exercise.files,
        timeout=timeout,
    )


def hidden_lines(exercise_name: str) -> list[str]:
    """Lines only the source version of a test cell has: none may reach the trainee."""
    exercise = load_exercise(exercises()[exercise_name].source)
    lines: set[str] = set()
    for info in exercise.grade_cells:
        if not info.has_hidden_tests:
            continue
        visible = {
            line.strip() for line in exercise.release_cells[info.grade_id].source.split("\n")
        }
        for line in exercise.source_cells[info.grade_id].source.split("\n"):
            text = line.strip()
            if len(text) >= 6 and text not in visible and not re.fullmatch(r"#+.*", text):
                lines.add(text)
    return sorted(lines)


def solved(exercise_name: str) -> bytes:
    """The release with every solution cell answered as the source does (an honest notebook)."""
    exercise = exercises()[exercise_name]
    source = nbformat.reads(exercise.source, as_version=4)
    answers: dict[str, Any] = {}
    for cell in source.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            lines = [
                line
                for line in cell.source.split("\n")
                if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")
            ]
            answers[meta["grade_id"]] = "\n".join(lines)
    nb = json.loads(release_notebook(exercise.source))
    for cell in nb["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell["source"] = answers[grade_id]
    return json.dumps(nb).encode()
