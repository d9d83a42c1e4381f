"""A parity corpus: small nbgrader source notebooks of the kinds courses really write, graded by
stock nbgrader (its own `generate_assignment` and `autograde` commands, with a real ipykernel)
and by Atlas, every number compared.

The notebooks are built here with nbformat (nothing is cached between runs): plots, PIL images,
helper modules and data files beside the notebook, magics, rich displays, widgets, pandas, numpy
and scikit-learn, manual and task cells, errors, partial credit, print-heavy cells. Each is graded
three times: solved (the source's solutions), unsolved (the release as it is) and partly solved.

    .venv/bin/python tests/grading/parity_corpus.py     # prints the match rate
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ASSIGNMENT = "corpus"
STUDENTS = ("solved", "unsolved", "partial")
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
_BEGIN, _END = "### BEGIN SOLUTION", "### END SOLUTION"


@dataclass(frozen=True)
class Cell:
    """One cell of a corpus notebook: its role, source and (for graded cells) points."""

    role: str  # code | md | solution | test | manual-code | manual-md | task
    source: str
    grade_id: str | None = None
    points: float | None = None


@dataclass(frozen=True)
class Corpus:
    """One source notebook and what its partly solved submission answers differently."""

    name: str
    cells: tuple[Cell, ...]
    # grade_id -> the partly solved submission's source; default: the first answer solved
    partial: dict[str, str] = field(default_factory=dict)


def code(source: str) -> Cell:
    """An ordinary (unlocked, ungraded) code cell."""
    return Cell("code", source)


def md(source: str) -> Cell:
    """A read-only markdown cell."""
    return Cell("md", source)


def sol(grade_id: str, source: str) -> Cell:
    """An autograded answer: the region between the solution markers is what trainees write."""
    return Cell("solution", source, grade_id)


def test(grade_id: str, source: str, points: float = 1) -> Cell:
    """A test cell worth `points`."""
    return Cell("test", source, grade_id, points)


def manual(grade_id: str, source: str, points: float = 1, markdown: bool = True) -> Cell:
    """A manually graded answer (markdown or code)."""
    return Cell("manual-md" if markdown else "manual-code", source, grade_id, points)


def task(grade_id: str, source: str, points: float = 1) -> Cell:
    """A task cell (graded by a person on the whole notebook)."""
    return Cell("task", source, grade_id, points)


def _answer(body: str, *, indent: str = "    ") -> str:
    return f"{indent}{_BEGIN}\n{body}\n{indent}{_END}"


def _fn(signature: str, body: str) -> str:
    return f"def {signature}:\n{_answer(body)}"


# Files beside the notebooks (helper modules, packages, data), shared by the whole assignment.
FILES: dict[str, str] = {
    "corpus_helpers.py": (
        "def check_square(f):\n"
        "    assert f(3) == 9, 'f(3) should be 9'\n"
        "    assert f(-2) == 4\n"
        "    return True\n"
        "\n"
        "def mean(values):\n"
        "    return sum(values) / len(values)\n"
    ),
    "checks/__init__.py": "from checks.numeric import close\n",
    "checks/numeric.py": (
        "def close(a, b, tol=1e-9):\n    assert abs(a - b) <= tol, f'{a} is not {b}'\n"
    ),
    "plotchecks.py": (
        "def line_count(ax):\n"
        "    return len(ax.get_lines())\n"
        "\n"
        "def title_of(ax):\n"
        "    return ax.get_title()\n"
    ),
    "data/sales.csv": "region,month,amount\nnorth,1,10\nnorth,2,14\nsouth,1,7\nsouth,2,9\n",
    "data/config.json": '{"threshold": 0.5, "labels": ["low", "high"]}\n',
    "words.txt": "alpha\nbeta\ngamma\ndelta\n",
}

_SQUARES = _fn("squares(n)", "    return [i * i for i in range(1, n + 1)]")

NOTEBOOKS: tuple[Corpus, ...] = (
    Corpus(
        "p01_functions",
        (
            md("# Squares\nWrite `squares(n)`."),
            sol("squares", _SQUARES),
            test("t_squares", "assert squares(3) == [1, 4, 9]"),
            test(
                "t_squares_hidden",
                "assert squares(1) == [1]\n### BEGIN HIDDEN TESTS\nassert squares(0) == []\n"
                "### END HIDDEN TESTS",
                2,
            ),
        ),
        partial={"squares": "def squares(n):\n    return [i * i for i in range(n + 1)]"},
    ),
    Corpus(
        "p02_numpy",
        (
            code("import numpy as np"),
            sol(
                "normalize",
                _fn("normalize(x)", "    x = np.asarray(x, float)\n    return x / x.sum()"),
            ),
            test("t_normalize", "np.testing.assert_allclose(normalize([1, 3]), [0.25, 0.75])", 2),
            sol("outer", _fn("outer(a, b)", "    return np.outer(a, b)")),
            test("t_outer", "assert outer([1, 2], [3, 4]).shape == (2, 2)"),
        ),
    ),
    Corpus(
        "p03_pandas_csv",
        (
            code("import pandas as pd\nsales = pd.read_csv('data/sales.csv')\nsales.head()"),
            sol(
                "by_region", _fn("by_region(df)", "    return df.groupby('region')['amount'].sum()")
            ),
            test("t_by_region", "totals = by_region(sales)\nassert totals['north'] == 24", 2),
            test("t_by_region_south", "assert by_region(sales)['south'] == 16"),
        ),
        partial={
            "by_region": "def by_region(df):\n    return df.groupby('region')['amount'].max()"
        },
    ),
    Corpus(
        "p04_helper_module",
        (
            code("import corpus_helpers"),
            sol("square", _fn("square(x)", "    return x * x")),
            test("t_square", "assert corpus_helpers.check_square(square)", 2),
            test("t_mean", "assert corpus_helpers.mean([1, 2, 3]) == 2"),
        ),
    ),
    Corpus(
        "p05_helper_package",
        (
            sol("area", _fn("area(r)", "    import math\n    return math.pi * r * r")),
            test("t_area", "from checks import close\nimport math\nclose(area(1), math.pi)", 2),
            test("t_area_zero", "from checks.numeric import close\nclose(area(0), 0)"),
        ),
    ),
    Corpus(
        "p06_matplotlib_inline",
        (
            code("%matplotlib inline\nimport matplotlib.pyplot as plt\nimport numpy as np"),
            sol(
                "plot",
                _fn(
                    "plot(ax)",
                    "    x = np.linspace(0, 1, 5)\n    ax.plot(x, x ** 2)\n"
                    "    ax.set_title('parabola')",
                ),
            ),
            code("fig, ax = plt.subplots()\nplot(ax)\nplt.show()"),
            test("t_plot", "import plotchecks\nassert plotchecks.line_count(ax) == 1", 2),
            test("t_title", "assert plotchecks.title_of(ax) == 'parabola'"),
        ),
    ),
    Corpus(
        "p07_matplotlib_figure",
        (
            code("import matplotlib\nimport matplotlib.pyplot as plt"),
            sol(
                "bars",
                _fn(
                    "bars(values)",
                    "    fig, ax = plt.subplots()\n    ax.bar(range(len(values)), values)\n"
                    "    return fig",
                ),
            ),
            code("fig = bars([3, 1, 2])\nfig"),
            test("t_bars", "assert len(fig.axes[0].patches) == 3", 2),
        ),
    ),
    Corpus(
        "p08_pil_display",
        (
            code("from PIL import Image\nfrom IPython.display import display"),
            sol(
                "make_image",
                _fn("make_image(w, h)", "    return Image.new('RGB', (w, h), (255, 0, 0))"),
            ),
            code("img = make_image(8, 4)\ndisplay(img)"),
            test("t_size", "assert make_image(8, 4).size == (8, 4)"),
            test("t_pixel", "assert make_image(2, 2).getpixel((0, 0)) == (255, 0, 0)", 2),
        ),
    ),
    Corpus(
        "p09_pil_result",
        (
            code("from PIL import Image, ImageDraw"),
            sol(
                "drawing",
                _fn(
                    "drawing()",
                    "    im = Image.new('L', (16, 16), 0)\n"
                    "    ImageDraw.Draw(im).rectangle([4, 4, 11, 11], fill=255)\n    return im",
                ),
            ),
            code("drawing()"),
            test("t_drawing", "im = drawing()\nassert im.getpixel((8, 8)) == 255\nim", 2),
        ),
    ),
    Corpus(
        "p10_line_magics",
        (
            sol("total", _fn("total(n)", "    return sum(range(n))")),
            code("%time t = total(1000)\n%timeit -n 2 -r 1 total(10)"),
            test("t_total", "%time result = total(5)\nassert result == 10", 2),
            code("%precision 3\n%who_ls"),
        ),
    ),
    Corpus(
        "p11_capture",
        (
            sol("noisy", _fn("noisy()", "    print('working...')\n    return 42")),
            code("%%capture captured\nvalue = noisy()"),
            test("t_noisy", "assert value == 42\nassert 'working' in captured.stdout", 2),
        ),
    ),
    Corpus(
        "p12_cell_time",
        (
            sol(
                "fib",
                _fn(
                    "fib(n)",
                    "    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n"
                    "    return a",
                ),
            ),
            code("%%time\nf20 = fib(20)\nprint(f20)"),
            test("t_fib", "assert fib(10) == 55\nassert f20 == 6765", 2),
        ),
    ),
    Corpus(
        "p13_rich_display",
        (
            code(
                "from IPython.display import HTML, Markdown, JSON, Latex, display\n"
                "display(HTML('<b>bold</b>'), Markdown('*it*'), Latex(r'$x^2$'))\n"
                "display(JSON({'a': 1}))"
            ),
            sol(
                "table",
                _fn(
                    "table(rows)",
                    "    cells = ''.join(f'<tr><td>{r}</td></tr>' for r in rows)\n"
                    "    return HTML('<table>' + cells + '</table>')",
                ),
            ),
            test("t_table", "h = table([1, 2])\nassert h.data.count('<tr>') == 2\nh", 2),
        ),
    ),
    Corpus(
        "p14_repr_methods",
        (
            sol(
                "vector",
                "class Vector:\n    def __init__(self, x, y):\n        self.x, self.y = x, y\n"
                + _answer(
                    "    def norm2(self):\n        return self.x ** 2 + self.y ** 2\n"
                    "    def _repr_html_(self):\n        return f'<i>({self.x}, {self.y})</i>'\n"
                    "    def _repr_latex_(self):\n        return f'$({self.x}, {self.y})$'"
                ),
            ),
            code("Vector(3, 4)"),
            test("t_vector", "v = Vector(3, 4)\nassert v.norm2() == 25\nv", 2),
        ),
    ),
    Corpus(
        "p15_sklearn_regression",
        (
            code("import numpy as np\nfrom sklearn.linear_model import LinearRegression"),
            sol(
                "fit",
                _fn(
                    "fit(x, y)",
                    "    model = LinearRegression()\n    model.fit(np.reshape(x, (-1, 1)), y)\n"
                    "    return model",
                ),
            ),
            test("t_fit", "m = fit([0, 1, 2], [1, 3, 5])\nassert abs(m.coef_[0] - 2) < 1e-9", 2),
            test("t_intercept", "assert abs(fit([0, 1], [1, 3]).intercept_ - 1) < 1e-9"),
        ),
    ),
    Corpus(
        "p16_sklearn_partial_credit",
        (
            code(
                "from sklearn.datasets import load_iris\n"
                "from sklearn.model_selection import train_test_split\n"
                "X, y = load_iris(return_X_y=True)\n"
                "X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)"
            ),
            sol(
                "classifier",
                _fn(
                    "train(X, y)",
                    "    from sklearn.neighbors import KNeighborsClassifier\n"
                    "    return KNeighborsClassifier(3).fit(X, y)",
                ),
            ),
            test(
                "t_accuracy",
                "acc = train(X_train, y_train).score(X_test, y_test)\n"
                "score = 0\nif acc > 0.5: score += 1\nif acc > 0.9: score += 1\nscore",
                2,
            ),
        ),
        partial={
            "classifier": "def train(X, y):\n    from sklearn.dummy import DummyClassifier\n"
            "    return DummyClassifier(strategy='most_frequent').fit(X, y)"
        },
    ),
    Corpus(
        "p17_partial_credit",
        (
            sol(
                "parse",
                _fn("parse(text)", "    return [int(t) for t in text.split(',') if t.strip()]"),
            ),
            test(
                "t_parse",
                "points = 0.0\n"
                "try:\n    points += 0.5 * (parse('1,2') == [1, 2])\nexcept Exception:\n    pass\n"
                "try:\n    points += 1.0 * (parse('3,,4') == [3, 4])\nexcept Exception:\n    pass\n"
                "points",
                1.5,
            ),
        ),
        partial={"parse": "def parse(text):\n    return [int(t) for t in text.split(',')]"},
    ),
    Corpus(
        "p18_print_heavy",
        (
            sol(
                "countdown",
                _fn(
                    "countdown(n)",
                    "    for i in range(n, 0, -1):\n"
                    "        print(f'{i:05d} ' + '*' * (i % 50))\n    return 'liftoff'",
                ),
            ),
            code("countdown(2000)"),
            test(
                "t_countdown",
                "for k in range(300):\n    print('checking', k)\nassert countdown(3) == 'liftoff'",
                2,
            ),
        ),
    ),
    Corpus(
        "p19_expected_errors",
        (
            sol(
                "safe_div",
                _fn(
                    "safe_div(a, b)",
                    "    if b == 0:\n        raise ValueError('b must not be 0')\n    return a / b",
                ),
            ),
            test(
                "t_raises",
                "try:\n    safe_div(1, 0)\nexcept ValueError:\n    pass\nelse:\n"
                "    raise AssertionError('no ValueError')",
                2,
            ),
            test("t_value", "assert safe_div(6, 3) == 2"),
            code("safe_div(1, 0)"),
        ),
    ),
    Corpus(
        "p20_warnings",
        (
            code("import warnings"),
            sol(
                "ratio",
                _fn(
                    "ratio(a, b)",
                    "    if b == 0:\n        warnings.warn('dividing by zero')\n"
                    "        return float('inf')\n"
                    "    return a / b",
                ),
            ),
            test("t_ratio", "assert ratio(1, 2) == 0.5"),
            test("t_ratio_zero", "assert ratio(1, 0) == float('inf')", 2),
        ),
    ),
    Corpus(
        "p21_manual_markdown",
        (
            sol("gcd", _fn("gcd(a, b)", "    while b:\n        a, b = b, a % b\n    return a")),
            test("t_gcd", "assert gcd(12, 18) == 6", 2),
            manual("explain", f"{_BEGIN}\nEuclid's algorithm: the remainder shrinks.\n{_END}", 3),
        ),
    ),
    Corpus(
        "p22_manual_code",
        (
            manual(
                "design",
                "class Stack:\n" + _answer("    def __init__(self):\n        self.items = []"),
                2,
                markdown=False,
            ),
            sol("push", _fn("push(stack, x)", "    stack.items.append(x)\n    return stack")),
            test("t_push", "assert push(Stack(), 1).items == [1]"),
        ),
    ),
    Corpus(
        "p23_task",
        (
            md("Explore the data."),
            code("import pandas as pd\ndf = pd.read_csv('data/sales.csv')"),
            task("explore", "Make a plot of amount by month.", 2),
            sol("months", _fn("months(df)", "    return sorted(df['month'].unique().tolist())")),
            test("t_months", "assert months(df) == [1, 2]"),
        ),
    ),
    Corpus(
        "p24_mixed_points",
        (
            sol(
                "is_prime",
                _fn(
                    "is_prime(n)",
                    "    return n > 1 and all(n % d for d in range(2, int(n ** 0.5) + 1))",
                ),
            ),
            test("t_small", "assert is_prime(2) and is_prime(3) and not is_prime(4)", 0.5),
            test(
                "t_large",
                "assert is_prime(97)\n### BEGIN HIDDEN TESTS\nassert not is_prime(1)\n"
                "assert not is_prime(91)\n### END HIDDEN TESTS",
                2.5,
            ),
            sol("primes", _fn("primes(n)", "    return [k for k in range(n) if is_prime(k)]")),
            test("t_primes", "assert primes(10) == [2, 3, 5, 7]", 3),
        ),
    ),
    Corpus(
        "p25_display_image_bytes",
        (
            code(
                "import io\nfrom PIL import Image as PILImage\n"
                "from IPython.display import Image, display"
            ),
            sol(
                "png_bytes",
                _fn(
                    "png_bytes()",
                    "    buf = io.BytesIO()\n"
                    "    PILImage.new('RGB', (3, 3), 'blue').save(buf, 'PNG')\n"
                    "    return buf.getvalue()",
                ),
            ),
            code("display(Image(png_bytes()))\nImage(data=png_bytes(), width=30)"),
            test("t_png", "assert png_bytes()[:4] == b'\\x89PNG'", 2),
        ),
    ),
    Corpus(
        "p26_no_input",
        (
            sol(
                "greet",
                _fn(
                    "greet(name=None)",
                    "    if name is None:\n        name = 'world'\n    return f'hello {name}'",
                ),
            ),
            code(
                "try:\n    answer = input('name? ')\nexcept Exception as exc:\n"
                "    answer = type(exc).__name__\nprint(answer)"
            ),
            test("t_greet", "assert greet() == 'hello world'\nassert greet('ada') == 'hello ada'"),
        ),
    ),
    Corpus(
        "p27_json_file",
        (
            code("import json\nwith open('data/config.json') as fh:\n    config = json.load(fh)"),
            sol(
                "label",
                _fn("label(p)", "    return config['labels'][int(p >= config['threshold'])]"),
            ),
            test("t_label", "assert label(0.2) == 'low' and label(0.9) == 'high'", 2),
        ),
    ),
    Corpus(
        "p28_write_files",
        (
            sol(
                "save",
                _fn(
                    "save(path, lines)",
                    "    with open(path, 'w') as fh:\n        fh.write('\\n'.join(lines))",
                ),
            ),
            code("save('out.txt', ['a', 'b'])"),
            test(
                "t_save",
                "import os\nassert os.path.exists('out.txt')\n"
                "assert open('out.txt').read() == 'a\\nb'",
                2,
            ),
            test(
                "t_beside",
                "import os\nassert os.path.exists('words.txt')\nassert os.path.isdir('data')",
            ),
        ),
    ),
    Corpus(
        "p29_shell_escape",
        (
            code("!echo from-the-shell\nfiles = !ls"),
            sol("has_words", _fn("has_words(listing)", "    return 'words.txt' in listing")),
            test("t_has_words", "assert has_words(files)", 2),
        ),
    ),
    Corpus(
        "p30_widgets_interact",
        (
            code("import ipywidgets as widgets\nfrom ipywidgets import interact"),
            sol("double", _fn("double(x)", "    return 2 * x")),
            code("interact(double, x=(0, 10));"),
            test(
                "t_double",
                "def explode(x):\n    raise ValueError('boom')\n"
                "interact(explode, x=3)\nassert double(4) == 8",
                2,
            ),
        ),
    ),
    Corpus(
        "p31_widgets_state",
        (
            code("import ipywidgets as widgets\nfrom IPython.display import display"),
            sol("slider", _fn("slider()", "    return widgets.IntSlider(value=5, min=0, max=10)")),
            code(
                "s = slider()\ndisplay(s)\nout = widgets.Output()\nwith out:\n"
                "    print('inside')\nout"
            ),
            test("t_slider", "assert slider().value == 5\nassert slider().max == 10", 2),
        ),
    ),
    Corpus(
        "p32_autoreload_writefile",
        (
            code("%load_ext autoreload\n%autoreload 2"),
            code(
                "%%writefile shapes.py\ndef sides(name):\n"
                "    return {'triangle': 3, 'square': 4}[name]"
            ),
            sol(
                "perimeter",
                _fn(
                    "perimeter(name, length)",
                    "    import shapes\n    return shapes.sides(name) * length",
                ),
            ),
            test("t_perimeter", "assert perimeter('square', 2) == 8", 2),
        ),
    ),
    Corpus(
        "p33_dataframe_display",
        (
            code("import pandas as pd\nimport numpy as np"),
            sol(
                "frame",
                _fn(
                    "frame(n)",
                    "    return pd.DataFrame({'x': np.arange(n), 'y': np.arange(n) ** 2})",
                ),
            ),
            code("frame(4)"),
            test("t_frame", "df = frame(3)\nassert list(df.y) == [0, 1, 4]\ndf", 2),
            test("t_frame_describe", "frame(5).describe()"),
        ),
    ),
    Corpus(
        "p34_random_seed",
        (
            code("import numpy as np\nrng = np.random.default_rng(0)"),
            sol(
                "sample_mean",
                _fn("sample_mean(n)", "    return np.random.default_rng(1).normal(size=n).mean()"),
            ),
            test("t_mean", "m = sample_mean(10000)\nassert abs(m) < 0.05", 2),
            test(
                "t_stub_detect", "import numbers\nassert isinstance(sample_mean(3), numbers.Real)"
            ),
        ),
    ),
    Corpus(
        "p35_stderr_print",
        (
            code("import sys"),
            sol(
                "check",
                _fn(
                    "check(x)",
                    "    if x < 0:\n        print('negative!', file=sys.stderr)\n    return abs(x)",
                ),
            ),
            test("t_check", "assert check(-2) == 2", 2),
            test("t_check_positive", "assert check(3) == 3"),
        ),
    ),
)


# -- building the source notebooks and the submissions ------------------------------------------


def _meta(cell: Cell) -> dict[str, Any]:
    role = cell.role
    meta: dict[str, Any] = {
        "grade": role in ("test", "manual-code", "manual-md"),
        "grade_id": cell.grade_id,
        "locked": role in ("test", "task", "md"),
        "schema_version": 3,
        "solution": role in ("solution", "manual-code", "manual-md"),
    }
    if role == "md":
        meta["grade_id"] = None
    if role == "task":
        meta["task"] = True
    if cell.points is not None:
        meta["points"] = cell.points
    return {"nbgrader": meta}


def source_notebook(corpus: Corpus) -> str:
    """The instructor's source notebook (JSON text)."""
    cells = []
    for index, cell in enumerate(corpus.cells):
        if cell.role == "code":
            cells.append(new_code_cell(cell.source))
            continue
        meta = _meta(cell)
        if cell.role == "md":
            meta["nbgrader"]["grade_id"] = f"{corpus.name}_md_{index}"
        if cell.role in ("md", "manual-md", "task"):
            cells.append(new_markdown_cell(cell.source, metadata=meta))
        else:
            cells.append(new_code_cell(cell.source, metadata=meta))
    nb = new_notebook(cells=cells, metadata={"kernelspec": KERNELSPEC})
    return nbformat.writes(nb)


def solved(source: str) -> str:
    """A solution region as the instructor wrote it, without the markers."""
    return "\n".join(line for line in source.split("\n") if line.strip() not in (_BEGIN, _END))


def submission(corpus: Corpus, release: dict[str, Any], student: str) -> str:
    """The released notebook answered as `student` answers it."""
    answers = {
        c.grade_id: c for c in corpus.cells if c.role in ("solution", "manual-code", "manual-md")
    }
    if student == "solved":
        chosen = {gid: solved(c.source) for gid, c in answers.items()}
    elif student == "partial":
        chosen = dict(corpus.partial)
        if not chosen:
            first = next(iter(answers))
            chosen = {first: solved(answers[first].source)}
    else:
        chosen = {}
    nb = json.loads(json.dumps(release))
    for cell in nb["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id in chosen:
            cell["source"] = chosen[grade_id]
    return json.dumps(nb, indent=1)


def write_sources(root: Path) -> Path:
    """The assignment's source folder (notebooks and files) under `root`; returns it."""
    folder = root / "source" / ASSIGNMENT
    for corpus in NOTEBOOKS:
        path = folder / f"{corpus.name}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source_notebook(corpus))
    for name, text in FILES.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


# -- stock nbgrader -----------------------------------------------------------------------------


def _nbgrader(course: Path, *args: str) -> None:
    nbgrader = Path(sys.executable).with_name("nbgrader")
    # nbgrader runs `alembic` from PATH; the kernel is the interpreter's own ipykernel
    env = {
        **os.environ,
        "PATH": f"{nbgrader.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "JUPYTER_PLATFORM_DIRS": "1",
    }
    for _ in range(3):
        done = subprocess.run(
            [str(nbgrader), *args, "--force"], cwd=course, env=env, capture_output=True, text=True
        )
        # jupyter_client picks free TCP ports and the kernel binds them later: on a busy
        # machine another process may take one first. That is the reference failing to
        # start, not a grade: start it again.
        if done.returncode == 0 or "Address already in use" not in done.stderr:
            break
    if done.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


def _configure(course: Path) -> None:
    (course / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(course)!r}\n"
    )


def nbgrader_release(course: Path) -> dict[str, dict[str, Any]]:
    """`nbgrader generate_assignment` in `course`; the released notebooks by name."""
    _configure(course)
    _nbgrader(course, "generate_assignment", ASSIGNMENT)
    release = course / "release" / ASSIGNMENT
    return {p.stem: json.loads(p.read_text()) for p in sorted(release.glob("*.ipynb"))}


def nbgrader_autograde(course: Path, student: str, notebooks: dict[str, str]) -> dict[str, Any]:
    """Submit `notebooks` (name -> JSON) as `student` in a copy of `course`, autograde them with
    stock nbgrader, and read its gradebook: {notebook: {"score", "max_score",
    "needs_manual_grade", "cells": {grade_id: (score, max_score, needs_manual_grade)}}}."""
    from nbgrader.api import Gradebook

    mine = course.parent / f"course-{student}"
    shutil.copytree(course, mine)
    _configure(mine)
    submitted = mine / "submitted" / student / ASSIGNMENT
    shutil.copytree(mine / "release" / ASSIGNMENT, submitted)
    for name, text in notebooks.items():
        (submitted / f"{name}.ipynb").write_text(text)
    _nbgrader(mine, "autograde", ASSIGNMENT, "--student", student)
    found: dict[str, Any] = {}
    with Gradebook(f"sqlite:///{mine / 'gradebook.db'}") as gradebook:
        for name in notebooks:
            nb = gradebook.find_submission_notebook(name, ASSIGNMENT, student)
            found[name] = {
                "score": float(nb.score),
                "max_score": float(nb.max_score),
                "needs_manual_grade": bool(nb.needs_manual_grade),
                "cells": {
                    g.name: (float(g.score), float(g.max_score), bool(g.needs_manual_grade))
                    for g in nb.grades
                },
            }
    return found


# -- Atlas --------------------------------------------------------------------------------------


def atlas_grades(
    sources: Path, notebooks: dict[tuple[str, str], str]
) -> dict[tuple[str, str], Any]:
    """Atlas's grades of `notebooks` ((name, student) -> JSON), in the same shape as
    `nbgrader_autograde`'s, with the result's flags."""
    from grading import GradeJob, grade_many
    from grading.release import exercise_files

    files = exercise_files(sources)
    keys = list(notebooks)
    jobs = [
        GradeJob(
            source=(sources / f"{name}.ipynb").read_text(),
            submission=notebooks[(name, student)].encode(),
            name=f"{student}/{name}.ipynb",
            files=files,
        )
        for name, student in keys
    ]
    found = {}
    for key, result in zip(keys, grade_many(jobs), strict=True):
        found[key] = {
            "status": result.status,
            "error": result.error,
            "flags": list(result.flags),
            "score": result.score,
            "max_score": result.max_score,
            "needs_manual_grade": result.needs_manual_grade,
            "cells": {
                c.grade_id: (c.score, c.max_score, c.needs_manual_grade) for c in result.cells
            },
        }
    return found


# -- side by side -------------------------------------------------------------------------------


@dataclass
class Comparison:
    """Both graders' numbers for every (notebook, student), and the releases of both."""

    nbgrader: dict[tuple[str, str], Any]
    atlas: dict[tuple[str, str], Any]
    releases_equal: dict[str, bool]

    def differences(self, name: str) -> list[str]:
        """What differs for notebook `name` (empty when every number is equal)."""
        out = []
        if not self.releases_equal[name]:
            out.append("release differs from nbgrader's")
        for student in STUDENTS:
            want, got = self.nbgrader[(name, student)], self.atlas[(name, student)]
            if got["status"] != "graded":
                out.append(f"{student}: {got['status']}: {got['error']}")
                continue
            for key in ("score", "max_score", "needs_manual_grade"):
                if want[key] != got[key]:
                    out.append(f"{student}: {key} nbgrader={want[key]} atlas={got[key]}")
            for grade_id in sorted(set(want["cells"]) | set(got["cells"])):
                w, g = want["cells"].get(grade_id), got["cells"].get(grade_id)
                if w != g:
                    out.append(f"{student}: {grade_id} nbgrader={w} atlas={g}")
            if got["flags"]:
                out.append(f"{student}: flags {got['flags']}")
        return out

    def numbers(self) -> tuple[int, int]:
        """(equal, compared): per cell score, max score and manual flag; the same per notebook."""
        equal = compared = 0
        for key, want in self.nbgrader.items():
            got = self.atlas[key]
            pairs = [(want[k], got[k]) for k in ("score", "max_score", "needs_manual_grade")]
            for grade_id, w in want["cells"].items():
                g = got["cells"].get(grade_id, (None, None, None))
                pairs += list(zip(w, g, strict=True))
            compared += len(pairs)
            equal += sum(1 for w, g in pairs if w == g)
        return equal, compared


def compare(root: Path, names: set[str] | None = None) -> Comparison:
    """Build the corpus under `root`, grade it (or the notebooks in `names`) with stock
    nbgrader and with Atlas."""
    from grading import release_notebook

    course = root / "course"
    sources = write_sources(course)
    releases = nbgrader_release(course)
    releases_equal = {
        c.name: json.loads(release_notebook((sources / f"{c.name}.ipynb").read_text()))
        == releases[c.name]
        for c in NOTEBOOKS
    }
    notebooks = {
        (c.name, s): submission(c, releases[c.name], s)
        for c in NOTEBOOKS
        for s in STUDENTS
        if names is None or c.name in names
    }
    with ThreadPoolExecutor(max_workers=len(STUDENTS)) as pool:
        stock = {
            s: pool.submit(
                nbgrader_autograde,
                course,
                s,
                {name: text for (name, student), text in notebooks.items() if student == s},
            )
            for s in STUDENTS
        }
        started = time.monotonic()
        atlas = atlas_grades(sources, notebooks)
        print(f"atlas: {time.monotonic() - started:.1f} s", file=sys.stderr)
        nbgrader = {
            (name, s): numbers
            for s, future in stock.items()
            for name, numbers in future.result().items()
        }
    return Comparison(nbgrader=nbgrader, atlas=atlas, releases_equal=releases_equal)


def main() -> None:
    """Print the match rate and every difference."""
    import tempfile

    names = set(sys.argv[1:]) or None
    with tempfile.TemporaryDirectory() as tmp:
        result = compare(Path(tmp), names)
    matching = 0
    chosen = [c for c in NOTEBOOKS if names is None or c.name in names]
    for corpus in chosen:
        diffs = result.differences(corpus.name)
        matching += not diffs
        for line in diffs:
            print(f"{corpus.name}: {line}")
    equal, compared = result.numbers()
    print(f"notebooks equal: {matching}/{len(chosen)}; numbers equal: {equal}/{compared}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    main()
