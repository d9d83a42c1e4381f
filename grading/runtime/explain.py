"""Inside the sandbox: why a visible test cell failed, for the trainee's feedback.

Asked for only in runs whose outputs the trainee sees (the host never asks it of a run that
holds hidden tests), and only once the verdict is fixed: nothing here can change a score. It
finds the statement of the test cell that failed (from the traceback's outermost `<test>`
frame), and for `assert left <op> right` evaluates both sides again in a forked child, so that
their side effects (a generator advanced, a counter bumped, a print) stay out of the run; the
child has a short deadline and is killed past it. Every step is best effort: on any surprise
the explanation is simply shorter.
"""

from __future__ import annotations

import ast
import json
import os
import reprlib
import select
import signal
import types
from typing import Any

MAX_TEXT = 2000  # characters of one field (code, error, one side of a comparison)
MAX_CODE_LINES = 8
CHILD_SECONDS = 2.0
_OPERATORS = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.In: "in",
    ast.NotIn: "not in",
}
# The real traceback of an exception, whatever its class claims (a property would run its code).
_TRACEBACK = BaseException.__dict__["__traceback__"]
_short_repr = reprlib.Repr()
_short_repr.maxlevel, _short_repr.maxlist, _short_repr.maxtuple = 3, 20, 20
_short_repr.maxdict, _short_repr.maxset, _short_repr.maxstring = 20, 20, 300
_short_repr.maxother = MAX_TEXT


def _cap(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + " …"


def failing_line(exc: BaseException) -> int | None:
    """The line of the test cell's own code where `exc` came out (None if not from the cell)."""
    tb = _TRACEBACK.__get__(exc)
    while type(tb) is types.TracebackType:
        if tb.tb_frame.f_code.co_filename == "<test>":
            return tb.tb_lineno
        tb = tb.tb_next
    return None


def _statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """Every statement of the cell's own code, compound ones before those they hold (function
    and class bodies excluded: the cell's frame is at the line that called them)."""
    found: list[ast.stmt] = []
    for node in body:
        found.append(node)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        for name in ("body", "orelse", "finalbody"):
            inner = getattr(node, name, None)
            if isinstance(inner, list):
                found.extend(_statements(inner))
        for handler in getattr(node, "handlers", None) or ():
            found.extend(_statements(handler.body))
    return found


def _innermost(body: list[ast.stmt], line: int) -> ast.stmt | None:
    best = None
    for node in _statements(body):
        end = getattr(node, "end_lineno", None) or node.lineno
        if node.lineno <= line <= end:
            best = node  # later in the list is deeper (or a later statement on the line)
    return best


def _literal(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        return _literal(node.operand)
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return all(_literal(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is not None and _literal(k) for k in node.keys) and all(
            _literal(v) for v in node.values
        )
    return False


def _evaluate_in_child(codes: list[types.CodeType], scope: dict[str, Any], active: list[bool]):
    """Both sides of a comparison as short text, evaluated in a forked child (None if it fails
    or takes longer than CHILD_SECONDS)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: evaluate, write, exit; never return into the run
        try:
            os.close(read_end)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            texts = []
            active[0] = True  # introspection stays refused, as in the test itself
            for code in codes:
                try:
                    texts.append(_cap(_short_repr.repr(eval(code, scope))))
                except BaseException as exc:
                    texts.append(f"<{type(exc).__name__}>")
            active[0] = False
            os.write(write_end, json.dumps(texts).encode()[: 1 << 16])
        finally:
            os._exit(0)
    os.close(write_end)
    chunks = []
    try:
        ready, _, _ = select.select([read_end], [], [], CHILD_SECONDS)
        while ready:
            chunk = os.read(read_end, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
            ready, _, _ = select.select([read_end], [], [], CHILD_SECONDS)
    finally:
        os.close(read_end)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
    texts = json.loads(b"".join(chunks) or b"null")
    if isinstance(texts, list) and len(texts) == len(codes):
        return [str(t)[: MAX_TEXT + 2] for t in texts]
    return None


def explain_failure(
    source: str,
    body: list[ast.stmt],
    exc: BaseException,
    ename: str,
    evalue: str,
    scope: dict[str, Any],
    active: list[bool],
) -> dict[str, Any] | None:
    """{line, code, ename, evalue, compare: {op, left, right, expected: left|right} | None}
    for a failed test cell whose parsed statements are `body`; None when it cannot tell."""
    try:
        line = failing_line(exc)
        if line is None:
            return None
        lines = source.splitlines()
        node = _innermost(body, line)
        compound = node is not None and hasattr(node, "body")
        start, end = (line, line) if node is None or compound else (node.lineno, node.end_lineno)
        code = "\n".join(lines[start - 1 : min(end, start + MAX_CODE_LINES - 1)])
        explained: dict[str, Any] = {
            "line": line,
            "code": _cap(code),
            "ename": ename,
            "evalue": _cap(evalue),
            "compare": None,
        }
        test = node.test if isinstance(node, ast.Assert) else None
        if isinstance(exc, AssertionError) and isinstance(test, ast.Compare) and len(test.ops) == 1:
            left, right = test.left, test.comparators[0]
            codes = [
                compile(ast.Expression(side), "<explain>", "eval", dont_inherit=True)
                for side in (left, right)
            ]
            texts = _evaluate_in_child(codes, scope, active)
            if texts is not None:
                expected = "left" if _literal(left) and not _literal(right) else "right"
                explained["compare"] = {
                    "op": _OPERATORS.get(type(test.ops[0]), "?"),
                    "left": texts[0],
                    "right": texts[1],
                    "expected": expected,
                }
        return explained
    except BaseException:  # an explanation is a courtesy: never let it disturb the run
        return None
