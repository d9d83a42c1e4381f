"""A test sees trainee values through the types they claim (grading/runtime/judge.py).

Each case runs an answer cell and a test cell in a real sandbox. Forged values (objects whose
comparisons, arithmetic or conversions lie) must fail the test; honest code, including classes
the trainee writes for a class exercise, must score as it does under plain Python (nbgrader).
"""

from __future__ import annotations

import pytest

from grading.runtime import RunRequest

FORGED = {
    "eq-always-true": (
        "class Yes:\n    def __eq__(self, other): return True\n    __hash__ = object.__hash__\n"
        "def add(a, b): return Yes()",
        "assert add(1, 2) == 3",
    ),
    "ne-always-false": (
        "class No:\n    def __ne__(self, other): return False\ndef add(a, b): return No()",
        "assert not (add(1, 2) != 3)",
    ),
    "int-subclass-eq-truthy-object": (
        "class T:\n    def __bool__(self): return True\n"
        "class A(int):\n    def __eq__(self, o): return T()\n    __hash__ = int.__hash__\n"
        "def add(a, b): return A(0)",
        "assert add(1, 2) == 3",
    ),
    "reflected-eq-on-the-right": (
        "class Yes:\n    def __eq__(self, other): return True\n    __hash__ = object.__hash__\n"
        "def add(a, b): return Yes()",
        "assert 3 == add(1, 2)",
    ),
    "sub-makes-the-difference-zero": (
        "class Z:\n    def __sub__(self, o): return 0\n    def __rsub__(self, o): return 0\n"
        "def add(a, b): return Z()",
        "assert abs(add(1, 2) - 3) < 1e-9",
    ),
    "float-subclass-sub-override": (
        "class F(float):\n    def __sub__(self, o): return 0.0\ndef add(a, b): return F(0)",
        "assert abs(add(1, 2) - 3) < 1e-9",
    ),
    "dunder-float-says-three": (
        "class F:\n    def __float__(self): return 3.0\ndef add(a, b): return F()",
        "import math\nassert math.isclose(add(1, 2), 3)",
    ),
    "numpy-isclose-on-a-liar": (
        "class F:\n    def __float__(self): return 3.0\n    def __sub__(self, o): return 0.0\n"
        "    def __rsub__(self, o): return 0.0\n"
        "def add(a, b): return F()",
        "import numpy as np\nassert np.isclose(add(1, 2), 3)",
    ),
    "list-of-liars": (
        "class Yes:\n    def __eq__(self, other): return True\n    __hash__ = object.__hash__\n"
        "def pair(): return [Yes(), Yes()]",
        "assert pair() == [1, 2]",
    ),
    "dict-of-liars": (
        "class Yes:\n    def __eq__(self, other): return True\n    __hash__ = object.__hash__\n"
        "def counts(): return {'a': Yes()}",
        "assert counts() == {'a': 2}",
    ),
    "liar-in-a-list": (
        "class Yes:\n    def __eq__(self, other): return True\n    __hash__ = object.__hash__\n"
        "def pick(): return Yes()",
        "assert pick() in [1, 2]",
    ),
    "ndarray-subclass-array-function": (
        "import numpy as np\n"
        "class Y(np.ndarray):\n"
        "    def __array_function__(self, func, types, args, kwargs): return True\n"
        "    def __eq__(self, other): return np.ones(self.shape, bool)\n"
        "def fit(): return np.zeros(3).view(Y)",
        "import numpy as np\nexpected = np.array([1.0, 2.0, 3.0])\n"
        "assert np.allclose(fit(), expected)\nassert (fit() == expected).all()",
    ),
    "ndarray-subclass-sum-override": (
        "import numpy as np\n"
        "class Y(np.ndarray):\n    def sum(self, *a, **k): return 6.0\n"
        "def fit(): return np.zeros(3).view(Y)",
        "assert fit().sum() == 6.0",
    ),
    "bool-override-on-int-subclass": (
        "class B(int):\n    def __bool__(self): return True\ndef is_even(n): return B(0)",
        "assert is_even(4)",
    ),
    "chained-comparison": (
        "class Yes:\n    def __lt__(self, o): return True\n    def __gt__(self, o): return True\n"
        "def ratio(): return Yes()",
        "assert 0 < ratio() < 1",
    ),
    "partial-credit-text-forged": (
        "class Score:\n    def __repr__(self): return '1.0'\ndef mark(): return Score()",
        "assert mark() is not None\nmark()",
    ),
}

HONEST = {
    "class-exercise-own-eq": (
        "class Money:\n    def __init__(self, c): self.c = c\n"
        "    def __eq__(self, o): return isinstance(o, Money) and o.c == self.c\n"
        "    def __add__(self, o): return Money(self.c + o.c)\n"
        "    __hash__ = None",
        "assert Money(1) + Money(2) == Money(3)\nassert Money(1) != Money(2)",
    ),
    "class-exercise-methods-and-state": (
        "class Breaker:\n    def __init__(self): self.state = 'closed'; self.n = 0\n"
        "    def fail(self):\n        self.n += 1\n"
        "        if self.n >= 3: self.state = 'open'",
        "b = Breaker()\nfor _ in range(3):\n    b.fail()\nassert b.state == 'open'\n"
        "assert b.n == 3 and b.n >= 3 and not b.n < 3",
    ),
    "list-subclass-own-method": (
        "class Stack(list):\n    def push(self, x): self.append(x)\n"
        "    def peek(self): return self[-1]",
        "s = Stack()\ns.push(1)\ns.push(2)\nassert s.peek() == 2\nassert s == [1, 2]\n"
        "assert len(s) == 2 and s[0] == 1",
    ),
    "numbers-and-arrays": (
        "import numpy as np\ndef fit(): return np.array([1.0, 2.0, 3.0])",
        "import numpy as np, math\nw = fit()\nassert np.allclose(w, [1, 2, 3])\n"
        "assert (w == np.array([1.0, 2.0, 3.0])).all()\nassert abs(w.sum() - 6) < 1e-9\n"
        "assert math.isclose(float(w[0]), 1.0)\nassert w.shape == (3,)\nassert -w[0] == -1",
    ),
    "fractions-and-decimals": (
        "from fractions import Fraction\ndef half(): return Fraction(1, 2)",
        "assert half() == 0.5\nassert half() < 1\nassert half() + half() == 1",
    ),
    "pandas-frames": (
        "import pandas as pd\ndef frame(): return pd.DataFrame({'a': [1, 2]})",
        "import pandas as pd\ndf = frame()\nassert df['a'].sum() == 3\n"
        "pd.testing.assert_frame_equal(df, pd.DataFrame({'a': [1, 2]}))\n"
        "assert list(df.columns) == ['a'] and 'a' in df.columns",
    ),
    "chains-in-and-generators": (
        "def squares(n): return [i * i for i in range(n)]",
        "assert 0 <= squares(3)[1] <= 1 < 2\nassert 4 in squares(3)\nassert 5 not in squares(3)\n"
        "assert all(squares(5)[i] == i ** 2 for i in range(5))\n"
        "assert f'{squares(2)}' == '[0, 1]'\nassert sorted(squares(3), reverse=True)[0] == 4",
    ),
    "helpers-defined-in-the-test": (
        "def add(a, b): return a + b",
        "def check(x, y):\n    return add(x, y) == x + y\n"
        "class Probe:\n    def __init__(self):\n        super().__init__()\n"
        "        self.v = add(1, 1)\n"
        "assert check(2, 3) and Probe().v == 2\nassert 'check' in locals() or 'check' in globals()",
    ),
    "partial-credit": (
        "def half(x): return x / 2",
        "score = 0.0\nif half(2) == 1: score += 0.25\nif half(3) == 1.5: score += 0.75\nscore",
    ),
}


@pytest.mark.parametrize("case", sorted(FORGED))
def test_a_forged_value_does_not_pass_the_test(runtime, case):
    answer, test = FORGED[case]
    outcome = runtime.run(RunRequest(cells=(answer, test), tests=frozenset({1})))
    assert not [o for o in outcome.outputs[0] if o["output_type"] == "error"], outcome.outputs[0]
    verdict = outcome.verdicts[1]
    if case == "partial-credit-text-forged":
        # the test passes, but its last value is the trainee's object: no partial-credit text
        assert verdict["status"] == "ok" and verdict["result"] is None, verdict
    else:
        assert verdict["status"] == "error", (case, verdict)


@pytest.mark.parametrize("case", sorted(HONEST))
def test_honest_code_scores_as_under_plain_python(runtime, case):
    answer, test = HONEST[case]
    outcome = runtime.run(RunRequest(cells=(answer, test), tests=frozenset({1})))
    verdict = outcome.verdicts[1]
    assert verdict["status"] == "ok", (case, verdict, outcome.outputs[1])
    if case == "partial-credit":
        assert verdict["result"] == "1.0"


def test_the_same_checks_in_plain_python_really_are_fooled():
    """The skeptic's control: without the judge, every forged case passes (so the cases above
    test the judge, not a typo that makes the test fail anyway)."""
    fooled = []
    for case, (answer, test) in FORGED.items():
        if case == "partial-credit-text-forged":
            continue
        namespace: dict = {}
        exec(answer, namespace)
        try:
            exec(test, namespace)
        except AssertionError:
            continue
        fooled.append(case)
    assert sorted(fooled) == sorted(set(FORGED) - {"partial-credit-text-forged"})
