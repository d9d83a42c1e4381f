"""Inside the sandbox: runs test cells on a path trainee code cannot hook, and judges them.

Trainee code shares the interpreter with the tests, so under nbgrader it can make a test pass by
hooking IPython (events, transformers, `run_cell`), by publishing an `execute_result`, by patching
the library functions the test calls, or by reading the expected values from the test's frame.
A `TestRunner` is built in the fork server, before any trainee code exists, and keeps its own
references to what it needs (compile, exec, the builtins, sys functions). For each test cell it

- compares the functions tests rely on (numpy, pandas, math, operator, builtins, IPython, the
  runtime's own modules, the built-in types) with the snapshot taken at start: a difference is
  reported as `tampered-runtime:<name>` (the cell then scores 0);
- resets trace and profile functions, the excepthook and the builtins;
- compiles the test source itself and executes it outside IPython (no events, no transformers,
  no `run_cell`, no history, nothing in linecache), in the trainee's namespace as nbgrader does,
  with frame, gc, tracing and ctypes introspection refused by a PEP 578 audit hook while it runs
  (`introspection`);
- computes the verdict: an exception anywhere in the cell fails it; partial credit comes only
  from the value of the cell's own last expression, as text for nbgrader's `get_partial_grade`.
"""

from __future__ import annotations

import ast
import builtins
import operator
import sys
import threading
import types
from collections.abc import Callable
from typing import Any

# What the verdict of a test may depend on (module attributes, and the dicts of classes they
# define, are snapshotted when the runner is built).
TRACKED_MODULES = (
    "builtins",
    "math",
    "operator",
    "functools",
    "numbers",
    "numpy",
    "numpy.testing",
    "numpy.linalg",
    "numpy._core.numeric",
    "numpy._core.fromnumeric",
    "numpy.testing._private.utils",
    "pandas",
    "pandas.testing",
    "pandas._testing",
    "pandas._testing.asserters",
    "IPython",
    "IPython.core.interactiveshell",
    "IPython.core.formatters",
    "json",
    "json.decoder",
    "json.encoder",
    "socket",
    "struct",
    "IPython.core.compilerop",
    "ipykernel.compiler",
    "grading.runtime.executor",
    "grading.runtime.verdict",
    "grading.runtime.judge",
    "grading.runtime.outputs",
    "grading.runtime.protocol",
)
# Built-in types whose methods a test's comparisons use (patched only through ctypes or gc).
TRACKED_TYPES = (
    int,
    float,
    complex,
    bool,
    str,
    bytes,
    list,
    tuple,
    dict,
    set,
    frozenset,
    object,
    type,
    BaseException,
    Exception,
    AssertionError,
)
# Names a test reads that trainee code may not shadow with its own globals.
SHADOW_SENSITIVE = frozenset(
    {
        *(name for name, value in vars(builtins).items() if isinstance(value, type)),
        "abs",
        "all",
        "any",
        "callable",
        "getattr",
        "hasattr",
        "isinstance",
        "issubclass",
        "len",
        "print",
        "repr",
        "round",
        "__import__",
    }
)
# Usual aliases of tracked modules: bound to anything but that module, they are a forgery.
MODULE_ALIASES = {
    "np": "numpy",
    "numpy": "numpy",
    "npt": "numpy.testing",
    "pd": "pandas",
    "pandas": "pandas",
    "pdt": "pandas.testing",
    "tm": "pandas.testing",
    "math": "math",
    "operator": "operator",
}
# Audit events that read frames, objects or memory of the running test.
_FRAME_ATTRIBUTES = frozenset({"tb_frame", "gi_frame", "cr_frame", "ag_frame", "f_code"})
_REFUSED_EVENTS = frozenset(
    {"sys._getframe", "sys._current_frames", "sys.settrace", "sys.setprofile"}
)
# Refused whoever asks when notebook code is anywhere on the stack: gc reaches every object, and
# an audit hook of the trainee's would see every test compiled (its source) and executed (its
# code, whose constants hold the judge).
_GC_EVENTS = frozenset(
    {"gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys.addaudithook"}
)
_MISSING = object()
_TRACKED_ROOTS = frozenset(name.split(".")[0] for name in TRACKED_MODULES)


class IntrospectionRefused(RuntimeError):
    """Raised in code that tried to inspect a running test."""


class _Group:
    """The attributes of one namespace (a module's dict or a class's), read in one C call."""

    def __init__(self, label: str, namespace: Any, attrs: list[str]) -> None:
        self.label = label
        self.namespace = namespace
        self.attrs = tuple(attrs)
        # itemgetter of several keys returns a tuple: one key is read as two
        self.getter = operator.itemgetter(*self.attrs, *self.attrs[:1])
        self.values = self._read()

    def _read(self) -> tuple[Any, ...]:
        try:
            return self.getter(self.namespace)[: len(self.attrs)]
        except KeyError:  # an attribute was deleted: compare one by one
            return tuple(self.namespace.get(attr, _MISSING) for attr in self.attrs)

    def changes(self, same: Callable[..., bool]) -> list[str]:
        current = self._read()
        if same(current, self.values):
            return []
        return [
            f"{self.label}.{attr}"
            for attr, now, then in zip(self.attrs, current, self.values, strict=True)
            if now is not then
        ]


class _Snapshot:
    """Identities of what tests rely on, taken before any trainee code. (A function's code or
    defaults replaced in place is seen by the audit hook instead: `object.__setattr__`.)"""

    def __init__(self) -> None:
        self.modules: dict[str, types.ModuleType] = {}
        self.groups: list[_Group] = []
        seen_types: set[int] = set()
        for name in TRACKED_MODULES:
            module = sys.modules.get(name)
            if module is None:
                continue
            self.modules[name] = module
            namespace = vars(module)
            self._add(name, namespace, list(namespace))
            for attr, value in list(namespace.items()):
                owner = getattr(value, "__module__", None)
                if isinstance(value, type) and owner == name and id(value) not in seen_types:
                    seen_types.add(id(value))
                    self._add_class(f"{name}.{attr}", value)
        for kind in TRACKED_TYPES:
            if id(kind) not in seen_types:
                self._add_class(f"builtins.{kind.__name__}", kind)
        # captured C functions: what trainee code rebinds later is not what compares here
        all_, map_, is_ = all, map, operator.is_
        self._same = lambda now, then: all_(map_(is_, now, then))

    def _add(self, label: str, namespace: Any, attrs: list[str]) -> None:
        if attrs:
            self.groups.append(_Group(label, namespace, attrs))

    def _add_class(self, label: str, kind: type) -> None:
        # The mapping proxy is read live, so a change through ctypes or gc shows too.
        skip = ("__doc__", "__weakref__", "__dict__", "_abc_impl")
        self._add(label, kind.__dict__, [attr for attr in kind.__dict__ if attr not in skip])

    def accept(self, namespace: dict[str, Any], attr: str) -> None:
        """Take the current value of `namespace[attr]` as the reference (set by the runtime)."""
        for group in self.groups:
            if group.namespace is namespace and attr in group.attrs:
                group.values = group._read()

    def changes(self) -> list[str]:
        """Labels of what differs from the snapshot (module swaps first)."""
        changed = [
            f"sys.modules[{name}]"
            for name, module in self.modules.items()
            if sys.modules.get(name) is not module
        ]
        for group in self.groups:
            changed += group.changes(self._same)
        return changed


class TestRunner:
    """Executes test cells with references captured at construction; one per fork server."""

    def __init__(self) -> None:
        self._compile = compile
        self._exec = exec
        self._eval = eval
        self._parse = ast.parse
        self._module = ast.Module
        self._expression = ast.Expression
        self._expr = ast.Expr
        self._isinstance = isinstance
        self._type = type
        self._list = list
        self._settrace = sys.settrace
        self._setprofile = sys.setprofile
        self._thread_settrace = threading.settrace
        self._thread_setprofile = threading.setprofile
        self._excepthook = sys.__excepthook__
        self._builtins = builtins
        self._builtins_dict = dict(vars(builtins))
        self._getframe = sys._getframe
        self._audit_hook_installed = False
        self._pinned: dict[str, Any] = {}
        self._active = [False]  # a list: the audit hook closes over it
        self._refused: list[str] = []
        self._rewritten: list[str] = []
        self._compiling = [False]
        self._allowed_callers = _allowed_frame_callers()
        from grading.runtime.explain import explain_failure

        self._explain = explain_failure
        from IPython.core.formatters import PlainTextFormatter
        from IPython.core.inputtransformer2 import TransformerManager

        self._plain = PlainTextFormatter()
        self._transform = TransformerManager().transform_cell
        from grading.runtime import judge

        self._judge = judge.build(_library_prefixes())
        self._rewrite, self._last_value, self._bind = judge.rewrite, judge.last_value, judge.bind
        self.snapshot = _Snapshot()

    def pin(self, namespace: dict[str, Any], *names: str) -> None:
        """The runtime put `names` in the notebook's namespace (`get_ipython`): a test that
        reads one rebound by trainee code is flagged `shadowed:<name>` and scores 0."""
        for name in names:
            self._pinned[name] = namespace[name]

    def accept(self, namespace: dict[str, Any], *attrs: str) -> None:
        """The runtime itself set `namespace[attr]` before trainee code: not tampering."""
        for attr in attrs:
            self.snapshot.accept(namespace, attr)
            if namespace is vars(builtins):
                self._builtins_dict[attr] = namespace[attr]

    def install_audit_hook(self) -> None:
        """In the sandbox, before trainee code: refuse introspection (frames, gc, tracing,
        ctypes) asked for by trainee code, in a test or outside one; in a test it is also
        noted in the verdict (the cell scores 0)."""
        if self._audit_hook_installed:
            return
        self._audit_hook_installed = True
        refused = self._refused
        allowed = self._allowed_callers
        getframe = self._getframe
        frame_attributes = _FRAME_ATTRIBUTES
        refused_events = _REFUSED_EVENTS
        reentered = [False]
        rewritten = self._rewritten
        guarded_attributes = ("__code__", "__defaults__", "__kwdefaults__")
        roots = _TRACKED_ROOTS
        library = _library_prefixes()
        compiling = self._compiling
        is_str = str.__instancecheck__
        gc_events = _GC_EVENTS
        producers, consumers = _frame_producers()
        any_, stack = any, _stack  # captured: trainee code may rebind the globals later
        allowed_names = _ALLOWED_BY_NAME
        suffixes = frozenset(suffix for _, suffix in allowed_names)

        def trainee(code: Any) -> bool:
            name = code.co_filename
            if name == "<test>":
                return False
            return not (name.startswith(library) or name.startswith("<frozen "))

        def hook(event: str, args: tuple) -> None:
            if event == "compile" and len(args) > 1 and is_str(args[1]) and not compiling[0]:
                # code given a library's file name (or the runner's) would pass for it below
                if args[1] == "<test>" or (
                    args[1].startswith(library) and not isinstance(args[0], bytes)
                ):
                    rewritten.append(f"compile:{args[1]}")
            if event == "object.__setattr__" and len(args) > 1 and args[1] in guarded_attributes:
                # a library function rewritten in place keeps its identity: noted here
                owner = str(getattr(args[0], "__module__", "") or "")
                if owner.split(".")[0] in roots:
                    name = getattr(args[0], "__qualname__", "?")
                    rewritten.append(f"{owner}.{name}.{args[1]}")
            if reentered[0]:
                return
            if event in gc_events:
                from_anywhere = True
            elif event in refused_events:
                from_anywhere = False
            elif event == "object.__getattr__" and len(args) > 1 and args[1] in frame_attributes:
                from_anywhere = False
            elif event.startswith("ctypes."):
                from_anywhere = False
            else:
                return
            reentered[0] = True
            try:
                # Who asks: libraries look at frames for their own reasons (a warning's stack
                # level, a namedtuple's module); code from the notebook, directly or through a
                # helper such as inspect.currentframe, may not, in a test or outside one. The
                # runner and the executor live in frames and objects reachable only this way.
                first = getframe(1)
                second = first.f_back
                callers = (first.f_code, *((second.f_code,) if second is not None else ()))
                if any_(code in allowed for code in callers) or any_(
                    (code.co_name, code.co_filename[-len(suffix) :]) in allowed_names
                    for code in callers
                    for suffix in suffixes
                ):
                    asked_by_trainee = False
                elif from_anywhere or (
                    callers[0] in producers and (len(callers) < 2 or callers[1] not in consumers)
                ):
                    # gc reaches every object; a frame generator (traceback.walk_stack) hands
                    # its frames to whoever iterates it, a library function included
                    asked_by_trainee = any_(trainee(code) for code in stack(first))
                else:
                    asked_by_trainee = any_(trainee(code) for code in callers)
            except ValueError:
                callers, asked_by_trainee = (), True
            finally:
                reentered[0] = False
            if not asked_by_trainee:
                return
            # noted in the next test's verdict, in a test or before it (that test scores 0)
            refused.append(event)
            raise IntrospectionRefused(
                f"{event} is not allowed in a graded notebook (it could reach the running tests)"
            )

        sys.addaudithook(hook)

    def changes(self, namespace: dict[str, Any], names: set[str]) -> list[str]:
        """What trainee code changed that this test could depend on."""
        changed = [*self.snapshot.changes(), *self._rewritten]
        modules = self.snapshot.modules
        real_modules = {id(module) for module in modules.values()}
        for name in sorted(names):
            value = namespace.get(name, _MISSING)
            if value is _MISSING:
                continue
            if name in SHADOW_SENSITIVE and value is not self._builtins_dict.get(name, _MISSING):
                changed.append(f"shadowed:{name}")
            elif name in self._pinned and value is not self._pinned[name]:
                changed.append(f"shadowed:{name}")
            elif name in MODULE_ALIASES and MODULE_ALIASES[name] in modules:
                if id(value) not in real_modules and self._isinstance(value, types.ModuleType):
                    changed.append(f"fake-module:{name}")
                elif not self._isinstance(value, types.ModuleType):
                    changed.append(f"fake-module:{name}")
        return changed

    def reset(self) -> None:
        """Trace and profile functions, excepthook and builtins as they were at start."""
        self._settrace(None)
        self._setprofile(None)
        self._thread_settrace(None)
        self._thread_setprofile(None)
        sys.excepthook = self._excepthook
        current = vars(self._builtins)
        for name, value in self._builtins_dict.items():
            if current.get(name, _MISSING) is not value:
                current[name] = value

    def run(self, source: str, namespace: dict[str, Any], explain: bool = False) -> dict[str, Any]:
        """Run one test cell's source in (a copy of) `namespace`; returns its verdict.

        The verdict: status ok|error, ename, evalue, result (the last expression's plain-text
        form, or None), tampered (labels), introspection (refused events), and with `explain`
        (never for a cell holding hidden tests) why it failed (grading/runtime/explain.py)."""
        try:
            code, last, statements, parsed = self._compile_cell(source)
        except SyntaxError as exc:
            return _verdict("error", "SyntaxError", str(exc))
        if not explain:
            del source, statements, parsed
        names = _names(code) | (_names(last) if last is not None else set())
        tampered = self.changes(namespace, names)
        self.reset()
        # The trainee's namespace itself, as under nbgrader: tests rebind and delete the
        # trainee's names on purpose (e.g. `del squares` to check that a function uses it).
        scope = namespace
        scope["__builtins__"] = self._builtins
        value = None
        self._active[0] = True
        try:
            self._exec(code, scope)
            if last is not None:
                value = self._eval(last, scope)
        except BaseException as exc:
            self._active[0] = False
            verdict = _verdict("error", self._type(exc).__name__, _safe_str(exc))
            if explain:
                # Trainee code may run while explaining (a hook, a patched module); it runs
                # under the same refusal of introspection as the test, so the verdict above,
                # reachable only through frames or gc, stays as it is.
                ename, evalue = verdict["ename"], verdict["evalue"]
                self._active[0] = True
                try:
                    verdict["explain"] = self._explain(
                        parsed, statements, exc, ename, evalue, scope, self._active
                    )
                finally:
                    self._active[0] = False
        else:
            self._active[0] = False
            verdict = _verdict("ok")
            if value is not None:
                verdict["result"] = self._plain_text(value)
        finally:
            self._active[0] = False
            del code, last
        verdict["tampered"] = tampered
        # refused since the last test: in this one, or in the cells before it
        verdict["introspection"] = self._list(self._refused)
        del self._refused[:]
        return verdict

    def _compile_cell(
        self, source: str
    ) -> tuple[types.CodeType, types.CodeType | None, list[ast.stmt], str]:
        self._compiling[0] = True
        try:
            return self._compile_test(source)
        finally:
            self._compiling[0] = False

    def _compile_test(
        self, source: str
    ) -> tuple[types.CodeType, types.CodeType | None, list[ast.stmt], str]:
        try:
            statements = self._list(self._parse(source, "<test>", "exec").body)
        except SyntaxError:
            # IPython syntax (magics, shell escapes): IPython's own, pristine transformer
            source = self._transform(source)
            statements = self._list(self._parse(source, "<test>", "exec").body)
        # A second tree, rewritten so that comparisons, arithmetic, truth tests and calls see
        # trainee values through the types they claim (judge.py); the first is for `explain`.
        tree = self._rewrite(self._parse(source, "<test>", "exec"))
        last = None
        if tree.body and self._isinstance(tree.body[-1], self._expr):
            last_node = tree.body.pop()
            last = self._bind(
                self._compile(
                    self._expression(self._last_value(last_node.value)),
                    "<test>",
                    "eval",
                    dont_inherit=True,
                    optimize=0,
                ),
                self._judge,
            )
        body = self._module(body=tree.body, type_ignores=[])
        # "<test>" is not in linecache: tracebacks and inspect cannot show the test's lines
        code = self._compile(body, "<test>", "exec", dont_inherit=True, optimize=0)
        return self._bind(code, self._judge), last, statements, source

    def _plain_text(self, value: Any) -> str:
        try:
            text = self._plain(value)
        except BaseException as exc:
            return f"<unprintable {self._type(exc).__name__}>"
        return text if self._isinstance(text, str) else ""


def _verdict(status: str, ename: str = "", evalue: str = "") -> dict[str, Any]:
    return {"status": status, "ename": ename, "evalue": evalue[:2000], "result": None}


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)
    except BaseException:
        return ""


def _names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def _library_prefixes() -> tuple[str, ...]:
    """Where the interpreter's, the libraries' and the runtime's own code live."""
    import os
    import sysconfig

    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix}
    paths |= {p for p in sysconfig.get_paths().values() if p}
    paths.add(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    found = set()
    for path in paths:
        found.add(path.rstrip("/") + "/")
        found.add(os.path.realpath(path).rstrip("/") + "/")
    return tuple(sorted(found))


_RUNTIME_DIR = __file__.rsplit("/", 1)[0] + "/"


def _stack(frame: Any) -> Any:
    """The code objects of `frame` and its callers, up to the runtime's own code: notebook
    code only ever runs above the executor (what is below, the fork server's start, is not the
    trainee's even when it was given as `python -c` text)."""
    while frame is not None:
        code = frame.f_code
        if code.co_filename.startswith(_RUNTIME_DIR):
            return
        yield code
        frame = frame.f_back


def _frame_producers() -> tuple[frozenset[Any], frozenset[Any]]:
    """Library functions that hand frames to their caller, and the library consumers that
    only turn them into text (a traceback's file names and lines)."""
    import inspect
    import traceback

    producers = {traceback.walk_stack.__code__, traceback.walk_tb.__code__}
    for name in ("currentframe", "stack", "trace", "getouterframes", "getinnerframes"):
        producers.add(getattr(inspect, name).__code__)
    consumers = {traceback.StackSummary._extract_from_extended_frame_gen.__code__}
    return frozenset(producers), frozenset(consumers)


def _allowed_frame_callers() -> frozenset[Any]:
    """Code objects of library helpers that look at frames only to compute a number or a name
    (pandas' warning stack level, the module a namedtuple is defined in)."""
    import collections

    from IPython.core.interactiveshell import InteractiveShell

    found = [collections.namedtuple.__code__]
    # a line or cell magic reads its caller's namespace (`%time x = f()` in a cell)
    found += [InteractiveShell.run_line_magic.__code__, InteractiveShell.run_cell_magic.__code__]
    if "pandas" in sys.modules:  # never imported for this: it costs 0.5 s of a plain start
        from pandas.util._exceptions import find_stack_level

        found.append(find_stack_level.__code__)
    return frozenset(found)


# Library helpers allowed by name too, for libraries imported after the runner was built (code
# compiled under a library's file name by trainee code is flagged `compile:<file>`).
_ALLOWED_BY_NAME = frozenset({("find_stack_level", "/pandas/util/_exceptions.py")})


_RUNNER: TestRunner | None = None


def runner() -> TestRunner:
    """The process's runner, built on first use (in the fork server, before any trainee code)."""
    global _RUNNER
    if _RUNNER is None:
        for name in ("numpy.testing", "pandas.testing"):
            parent = name.split(".")[0]
            if parent in sys.modules:
                try:
                    __import__(name)
                except ImportError:
                    pass
        _RUNNER = TestRunner()
        _RUNNER.accept(globals(), "_RUNNER")
    return _RUNNER


def take_runner() -> TestRunner:
    """The process's runner, for the executor alone: the module lets go of it, so trainee code
    that imports this module finds no runner to rewire (a new `runner()` builds another one,
    which grades nothing)."""
    global _RUNNER
    taken = runner()
    _RUNNER = None
    taken.accept(globals(), "_RUNNER")
    return taken


__all__ = ["IntrospectionRefused", "TestRunner", "runner", "take_runner"]
