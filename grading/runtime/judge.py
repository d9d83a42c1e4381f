"""Inside the sandbox: what a test's comparisons, arithmetic and library calls see of the values
trainee code hands them.

The runner (verdict.py) keeps trainee code from changing the interpreter under a test. What is
left is the values themselves: `add(1, 2)` may return an object whose `__eq__` is always true,
an `int` subclass whose `==` returns a truthy object, an `ndarray` subclass whose
`__array_function__` answers `np.allclose` with True, or an object whose `__float__` says 3.0.
Nothing in the interpreter changed, so no snapshot can see it; under nbgrader each of these
scores full marks.

So the runner rewrites each test cell's syntax tree (never the trainee's cells) and routes its
comparisons, arithmetic, `in`, `assert` truth and calls through the functions here, which apply
one rule: **a test sees a trainee value through the built-in or library type it claims to be.**

- *Trusted* types are those that existed in the fork server before any trainee code ran (every
  class reachable from `object.__subclasses__()` then), or classes a library module defines
  (its file is under the interpreter's or a library's folder and the module really holds it).
  Everything else was made by the trainee.
- A value of a trainee subclass of a built-in value type (int, float, complex, str, bytes,
  tuple, list, dict, set, frozenset) or of `numpy.ndarray` is *laundered* to its base type with
  the base type's own C methods (`int.__int__`, `list.__getitem__(x, slice(None))`,
  `ndarray.view(x, ndarray)`...) before a comparison, arithmetic, `assert` or library call uses
  it: its overrides never run.
- When one side of a comparison or arithmetic is trusted and the other is an object of an
  unrelated trainee class, only the trusted side's method is asked (`int.__eq__(3, obj)`); if it
  does not know the other type, `==` is identity and other operators raise TypeError, as
  Python does when neither side knows the other. Two trainee objects compare with the trainee's
  methods: a class exercise tests exactly those.
- Lists, tuples and dicts that hold trainee objects are compared element by element under the
  same rule (a list of `_Yes()` objects is not `[1, 2]`).
- Numeric library functions (numpy, pandas, math, cmath, statistics, scipy, sklearn and the
  numeric built-ins: float, int, complex, abs, round, sum, min, max, divmod, pow) refuse an
  argument (or a list or tuple element) of an unrelated trainee class with TypeError: they
  would otherwise ask the object itself (`__float__`, `__array__`, `__sub__`) what it is worth.

Written by hand because no library does this: it is specific to grading code that shares an
interpreter with the code it grades. Tested by tests/grading/test_judge.py and the hostile bank.
"""

from __future__ import annotations

import ast
import operator
import sys
import types
from collections.abc import Callable
from typing import Any

SENTINEL = "\x00atlas-judge"  # the constant a rewritten test's calls go through
_LIBRARY_ROOTS = frozenset(
    {"numpy", "pandas", "math", "cmath", "statistics", "scipy", "sklearn", "decimal", "fractions"}
)
_NUMERIC_BUILTINS = (
    "float",
    "int",
    "complex",
    "abs",
    "round",
    "sum",
    "min",
    "max",
    "divmod",
    "pow",
)
# Names whose calls must not go through a helper (they read the caller's frame or scope).
_DIRECT_CALLS = frozenset(
    {"super", "locals", "vars", "globals", "dir", "eval", "exec", "__import__"}
)

_COMPARE = {
    "Eq": ("__eq__", "__eq__", operator.eq),
    "NotEq": ("__ne__", "__ne__", operator.ne),
    "Lt": ("__lt__", "__gt__", operator.lt),
    "LtE": ("__le__", "__ge__", operator.le),
    "Gt": ("__gt__", "__lt__", operator.gt),
    "GtE": ("__ge__", "__le__", operator.ge),
}
_BINARY = {
    "Add": ("__add__", "__radd__", operator.add),
    "Sub": ("__sub__", "__rsub__", operator.sub),
    "Mult": ("__mul__", "__rmul__", operator.mul),
    "Div": ("__truediv__", "__rtruediv__", operator.truediv),
    "FloorDiv": ("__floordiv__", "__rfloordiv__", operator.floordiv),
    "Mod": ("__mod__", "__rmod__", operator.mod),
    "Pow": ("__pow__", "__rpow__", operator.pow),
    "MatMult": ("__matmul__", "__rmatmul__", operator.matmul),
    "LShift": ("__lshift__", "__rlshift__", operator.lshift),
    "RShift": ("__rshift__", "__rrshift__", operator.rshift),
    "BitAnd": ("__and__", "__rand__", operator.and_),
    "BitOr": ("__or__", "__ror__", operator.or_),
    "BitXor": ("__xor__", "__rxor__", operator.xor),
}
_UNARY = {
    "USub": ("__neg__", operator.neg),
    "UAdd": ("__pos__", operator.pos),
    "Invert": ("__invert__", operator.invert),
}
_SYMBOLS = {
    "Eq": "==",
    "NotEq": "!=",
    "Lt": "<",
    "LtE": "<=",
    "Gt": ">",
    "GtE": ">=",
    "Add": "+",
    "Sub": "-",
    "Mult": "*",
    "Div": "/",
    "FloorDiv": "//",
    "Mod": "%",
    "Pow": "**",
    "MatMult": "@",
    "LShift": "<<",
    "RShift": ">>",
    "BitAnd": "&",
    "BitOr": "|",
    "BitXor": "^",
}


def _all_classes() -> dict[int, type]:
    """Every class alive now, by id (strong references: an id is never reused for another)."""
    found: dict[int, type] = {}
    subclasses = type.__dict__["__subclasses__"]
    stack = [object]
    while stack:
        kind = stack.pop()
        if id(kind) in found:
            continue
        found[id(kind)] = kind
        try:
            stack.extend(subclasses(kind))
        except TypeError:  # type.__subclasses__ needs a type (type itself: unbound form)
            stack.extend(subclasses.__get__(kind)())
    return found


def build(library_prefixes: tuple[str, ...]) -> types.SimpleNamespace:
    """The judge: functions a rewritten test calls, closed over what exists now (before any
    trainee code). Returned as a namespace only the rewritten tests' constants refer to."""
    trusted_classes = _all_classes()
    get_mro = type.__dict__["__mro__"].__get__
    get_module = type.__dict__["__module__"].__get__
    get_qualname = type.__dict__["__qualname__"].__get__
    type_dict = type.__dict__["__dict__"].__get__
    module_dict = types.ModuleType.__dict__["__dict__"].__get__
    is_type = type.__instancecheck__.__get__(type)
    modules = sys.modules
    is_str = str.__instancecheck__
    startswith = str.startswith
    str_split = str.split
    real_type, real_id, real_len, real_map, real_set = type, id, len, map, set
    real_getattr, real_all, real_zip = getattr, all, zip
    is_ = operator.is_

    dict_items = dict.items
    whole = slice(None)
    launderers: dict[type, Callable[[Any], Any]] = {
        int: int.__int__,
        float: float.__float__,
        complex: complex.__complex__,
        str: str.__str__,
        bytes: bytes.__bytes__,
        tuple: lambda value: tuple.__getitem__(value, whole),
        list: lambda value: list.__getitem__(value, whole),
        dict: lambda value: dict(dict_items(value)),
        set: set.copy,
        frozenset: frozenset.copy,
    }
    # numpy when the fork server has it (it preloads what the notebook and its tests import: a
    # test that calls numpy has it here, so its arrays' subclasses are laundered too)
    numpy = modules.get("numpy")
    if numpy is not None:
        ndarray = numpy.ndarray
        view = ndarray.view
        launderers[ndarray] = lambda value: view(value, ndarray)
    operators = {**_COMPARE, **_BINARY}  # copies: what the judge uses is its own
    unaries, symbols = dict(_UNARY), dict(_SYMBOLS)
    scalars = frozenset({int, float, complex, str, bytes, bool, type(None)})
    sequences = (list, tuple)

    def library_class(kind: type) -> bool:
        name = get_module(kind)
        module = modules.get(name) if is_str(name) else None
        path = real_getattr(module, "__file__", None)
        if not (is_str(path) and startswith(path, library_prefixes)):
            return False
        found: Any = module_dict(module)
        for part in str_split(get_qualname(kind), "."):
            found = found.get(part) if real_type(found) is dict else None
            if found is None:
                return False
            found = type_dict(found) if found is not kind and is_type(found) else found
        return found is kind

    def trusted(kind: type) -> bool:
        if trusted_classes.get(real_id(kind)) is kind:
            return True
        try:
            mro = get_mro(kind)
        except TypeError:
            return False
        ok = library_class(kind) and real_all(
            trusted_classes.get(real_id(base)) is base or library_class(base) for base in mro[1:]
        )
        if ok:
            trusted_classes[real_id(kind)] = kind
        return ok

    def launder(value: Any) -> Any:
        kind = real_type(value)
        if trusted_classes.get(real_id(kind)) is kind or trusted(kind):
            return value
        for base in get_mro(kind)[1:]:
            convert = launderers.get(base)
            if convert is not None:
                return convert(value)
        return value

    def foreign(value: Any) -> bool:
        """A value of a trainee class that is not a laundered built-in."""
        return not trusted(real_type(value))

    def holds_foreign(value: Any) -> bool:
        kind = real_type(value)
        if kind in sequences:
            kinds = real_set(real_map(real_type, value))
        elif kind is dict:
            kinds = real_set(real_map(real_type, dict.values(value)))
        else:
            return False
        return not kinds <= scalars

    def equal(left: Any, right: Any) -> Any:
        """`left == right` under the rule, element by element for containers of trainee
        objects."""
        left, right = launder(left), launder(right)
        if holds_foreign(left) or holds_foreign(right):
            kind = real_type(left)
            if kind is not real_type(right):
                return False
            if kind is dict:
                if dict.keys(left) != dict.keys(right):
                    return False
                return real_all(truth(equal(left[key], right[key])) for key in left)
            if real_len(left) != real_len(right):
                return False
            return real_all(
                is_(a, b) or truth(equal(a, b)) for a, b in real_zip(left, right, strict=True)
            )
        return ask("Eq", left, right)

    def ask(op: type, left: Any, right: Any) -> Any:
        forward, reflected, plain = operators[op]
        left_foreign, right_foreign = foreign(left), foreign(right)
        if left_foreign == right_foreign:
            return plain(left, right)
        if not left_foreign:
            result = real_getattr(real_type(left), forward)(left, right)
        else:
            method = real_getattr(real_type(right), reflected, None)
            result = method(right, left) if method is not None else NotImplemented
        if result is NotImplemented:
            if op == "Eq":
                return left is right
            if op == "NotEq":
                return left is not right
            raise TypeError(
                f"unsupported operand for {symbols[op]}: "
                f"'{real_type(left).__name__}' and '{real_type(right).__name__}' "
                "(a value of the notebook's own class against a built-in one)"
            )
        return result

    def compare(op: str, left: Any, right: Any) -> Any:
        if op == "Is":
            return left is right
        if op == "IsNot":
            return left is not right
        if op == "In":
            return contains(right, left)
        if op == "NotIn":
            return not truth(contains(right, left))
        if op == "Eq":
            return equal(left, right)
        if op == "NotEq":
            result = equal(left, right)
            if real_type(result) is bool:
                return not result
            return ask("NotEq", launder(left), launder(right))  # elementwise (arrays)
        return ask(op, launder(left), launder(right))

    def chain(ops: tuple[str, ...], first: Any, *rest: Callable[[], Any]) -> Any:
        left, result = first, True
        for op, thunk in real_zip(ops, rest, strict=True):
            right = thunk()
            result = compare(op, left, right)
            if not truth(result):
                return result
            left = right
        return result

    def contains(container: Any, item: Any) -> Any:
        container, item = launder(container), launder(item)
        kind = real_type(container)
        if foreign(container) or not foreign(item):
            return item in container
        if kind in (list, tuple, set, frozenset, dict):
            members = dict.keys(container) if kind is dict else container
            return any(is_(member, item) or equal(member, item) is True for member in members)
        return real_getattr(kind, "__contains__")(container, item)

    def binary(op: str, left: Any, right: Any) -> Any:
        return ask(op, launder(left), launder(right))

    def unary(op: str, value: Any) -> Any:
        return unaries[op][1](launder(value))

    def attribute(value: Any, name: str) -> Any:
        """`value.name`; for a trainee subclass of a built-in value type, the base type's own
        attribute when it has one (`w.sum` of an ndarray subclass is ndarray's)."""
        kind = real_type(value)
        if not trusted(kind):
            for base in get_mro(kind)[1:]:
                if base in launderers:
                    if name in type_dict(base) or any(name in type_dict(b) for b in get_mro(base)):
                        return real_getattr(launder(value), name)
                    break
        return real_getattr(value, name)

    def item(value: Any, key: Any) -> Any:
        kind = real_type(value)
        if not trusted(kind):
            value = launder(value)
        return value[key]

    def truth(value: Any) -> bool:
        value = launder(value)
        kind = real_type(value)
        if kind is bool:
            return value
        return bool(value)

    def numeric(function: Any) -> bool:
        if real_type(function) is types.BuiltinFunctionType:
            owner = real_getattr(function, "__module__", None) or ""
            if owner == "builtins":
                return real_getattr(function, "__name__", "") in _NUMERIC_BUILTINS
        elif real_type(function) is type:
            return function in (float, int, complex)
        owner = real_getattr(function, "__module__", None)
        if not is_str(owner):
            owner = get_module(real_type(function)) if trusted(real_type(function)) else ""
        return is_str(owner) and str_split(owner, ".")[0] in _LIBRARY_ROOTS

    def refuse_foreign(value: Any) -> Any:
        value = launder(value)
        kind = real_type(value)
        if foreign(value):
            raise TypeError(
                f"a value of the notebook's own class '{kind.__name__}' was passed to a numeric "
                "library function in a test"
            )
        if kind in sequences:
            for element in value:
                if foreign(element):
                    raise TypeError(
                        "a list or tuple holding a value of the notebook's own class "
                        f"'{real_type(element).__name__}' was passed to a numeric library "
                        "function in a test"
                    )
        return value

    def call(function: Any, /, *args: Any, **kwargs: Any) -> Any:
        if not foreign(function) and numeric(function):
            args = tuple(real_map(refuse_foreign, args))
            kwargs = {key: refuse_foreign(value) for key, value in kwargs.items()}
        return function(*args, **kwargs)

    def last(value: Any) -> Any:
        """A test's last value (its partial credit): what the trainee's object claims to be
        is not asked."""
        value = launder(value)
        return None if foreign(value) else value

    return types.SimpleNamespace(
        compare=compare,
        chain=chain,
        binary=binary,
        unary=unary,
        truth=truth,
        call=call,
        last=last,
        attribute=attribute,
        item=item,
        trusted=trusted,
        launder=launder,
    )


class _Rewrite(ast.NodeTransformer):
    """A test cell's tree with its comparisons, arithmetic, truth tests and calls routed through
    the judge (an attribute of the constant SENTINEL, swapped for the judge after compiling)."""

    def _judge(self, name: str, node: ast.AST, *args: ast.expr) -> ast.Call:
        func = ast.Attribute(value=ast.Constant(SENTINEL), attr=name, ctx=ast.Load())
        return ast.copy_location(ast.Call(func=func, args=list(args), keywords=[]), node)

    @staticmethod
    def _op(node: ast.AST, op: ast.AST) -> ast.expr:
        # the operator's name as a constant: nothing trainee code can rebind
        return ast.copy_location(ast.Constant(type(op).__name__), node)

    def visit_Compare(self, node: ast.Compare) -> ast.expr:
        self.generic_visit(node)
        if len(node.ops) == 1:
            return self._judge(
                "compare", node, self._op(node, node.ops[0]), node.left, node.comparators[0]
            )
        ops = ast.Tuple(elts=[self._op(node, op) for op in node.ops], ctx=ast.Load())
        thunks = [
            ast.Lambda(
                args=ast.arguments(
                    posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]
                ),
                body=comparator,
            )
            for comparator in node.comparators
        ]
        return self._judge("chain", node, ops, node.left, *thunks)

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        self.generic_visit(node)
        return self._judge("binary", node, self._op(node, node.op), node.left, node.right)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.expr:
        self.generic_visit(node)
        if isinstance(node.op, ast.Not):
            node.operand = self._judge("truth", node, node.operand)
            return node
        return self._judge("unary", node, self._op(node, node.op), node.operand)

    def visit_Assert(self, node: ast.Assert) -> ast.stmt:
        self.generic_visit(node)
        node.test = self._judge("truth", node.test, node.test)
        return node

    def visit_If(self, node: ast.If) -> ast.stmt:
        self.generic_visit(node)
        node.test = self._judge("truth", node.test, node.test)
        return node

    visit_While = visit_If

    def visit_Call(self, node: ast.Call) -> ast.expr:
        if isinstance(node.func, ast.Attribute) and _shell_call(node.func.value):
            node.args = [self.visit(arg) for arg in node.args]
            node.keywords = [self.visit(keyword) for keyword in node.keywords]
            return node
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id in _DIRECT_CALLS:
            return node
        if (
            isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Constant)
            and node.func.value.value == SENTINEL
        ):
            return node
        return ast.copy_location(
            ast.Call(
                func=ast.Attribute(value=ast.Constant(SENTINEL), attr="call", ctx=ast.Load()),
                args=[node.func, *node.args],
                keywords=node.keywords,
            ),
            node,
        )

    def visit_Attribute(self, node: ast.Attribute) -> ast.expr:
        if _shell_call(node.value):
            return node  # get_ipython().run_line_magic(...) reads its caller's frame
        self.generic_visit(node)
        if not isinstance(node.ctx, ast.Load) or (
            isinstance(node.value, ast.Constant) and node.value.value == SENTINEL
        ):
            return node
        return self._judge("attribute", node, node.value, ast.Constant(node.attr))

    def visit_Subscript(self, node: ast.Subscript) -> ast.expr:
        self.generic_visit(node)
        key = node.slice
        has_slice = isinstance(key, ast.Slice) or (
            isinstance(key, ast.Tuple) and any(isinstance(e, ast.Slice) for e in key.elts)
        )
        if not isinstance(node.ctx, ast.Load) or has_slice:
            return node
        return self._judge("item", node, node.value, key)

    # Class bodies and functions defined in a test keep their own semantics for `super()`.
    def visit_ClassDef(self, node: ast.ClassDef) -> ast.stmt:
        return node


def _shell_call(node: ast.AST) -> bool:
    """`get_ipython()`: the shell's magics look at their caller's frame, so calls on it stay
    direct (the shell is the runtime's own and its methods are in the snapshot)."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "get_ipython"
    )


def rewrite(tree: ast.Module) -> ast.Module:
    """The test's tree with its comparisons, arithmetic, truth tests and calls routed through
    the judge (changes `tree` in place and returns it)."""
    tree = _Rewrite().visit(tree)
    ast.fix_missing_locations(tree)
    return tree


def last_value(expression: ast.expr) -> ast.expr:
    """The tree of a test's last expression, its value seen by the judge (partial credit)."""
    func = ast.Attribute(value=ast.Constant(SENTINEL), attr="last", ctx=ast.Load())
    node = ast.copy_location(ast.Call(func=func, args=[expression], keywords=[]), expression)
    return ast.fix_missing_locations(node)


def bind(code: types.CodeType, judge: Any) -> types.CodeType:
    """`code` (and the code nested in it) with the SENTINEL constant replaced by `judge`."""
    consts = []
    changed = False
    for const in code.co_consts:
        if type(const) is str and const == SENTINEL:
            consts.append(judge)
            changed = True
        elif type(const) is types.CodeType:
            bound = bind(const, judge)
            consts.append(bound)
            changed = changed or bound is not const
        else:
            consts.append(const)
    return code.replace(co_consts=tuple(consts)) if changed else code


__all__ = ["SENTINEL", "bind", "build", "last_value", "rewrite"]
