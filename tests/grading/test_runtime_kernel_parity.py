"""What a notebook can tell of its kernel is what ipykernel gives it: the notebook's folder on
sys.path and as the working directory, `%matplotlib inline` and the other magics, images as
base64 text, Output widgets capturing what runs inside them."""

from __future__ import annotations

import base64
import io

import pytest


def _errors(outputs):
    return [o for o in outputs if o["output_type"] == "error"]


def test_the_notebook_folder_is_importable_and_the_working_directory(run):
    files = {"helper.py": b"VALUE = 42\n", "pkg/__init__.py": b"from pkg.mod import f\n"}
    files["pkg/mod.py"] = b"def f():\n    return 'ok'\n"
    outcome = run(
        "import os, sys, helper, pkg\nprint(helper.VALUE, pkg.f(), os.getcwd() == _dh[0])",
        "'' in sys.path and sys.path.index('') > 0",  # after the standard library, as in IPython
        files=files,
    )
    assert outcome.outputs[0][0]["text"] == "42 ok True\n"
    assert outcome.outputs[1][0]["data"]["text/plain"] == "True"


def test_a_module_written_by_the_notebook_is_importable(run):
    outcome = run("%%writefile shapes.py\nSIDES = 4", "import shapes\nshapes.SIDES")
    assert outcome.outputs[1][0]["data"]["text/plain"] == "4"


def test_matplotlib_inline_and_its_figures_as_base64_png(run):
    outcome = run(
        "%matplotlib inline\nimport matplotlib.pyplot as plt",
        "plt.plot([1, 2, 3])\nplt.show()",
        "%config InlineBackend.figure_format = 'png'\n%matplotlib notebook\n%matplotlib inline",
    )
    assert [_errors(o) for o in outcome.outputs] == [[], [], []]
    (image,) = [o for o in outcome.outputs[1] if o["output_type"] == "display_data"]
    assert base64.b64decode(image["data"]["image/png"])[:4] == b"\x89PNG"


def test_a_gui_event_loop_is_refused_with_a_clear_reason(run):
    outcome = run("%gui tk", "x = 1")
    assert "'tk' is not available in the grading sandbox" in outcome.outputs[0][0]["text"]
    assert [(i.kind, i.index) for i in outcome.issues] == [("unsupported", 0)]
    assert outcome.execution_counts[1] is not None


@pytest.mark.parametrize("show", ["display(img)", "img"])
def test_a_pil_image_is_base64_png_as_ipykernel_sends_it(run, show):
    from PIL import Image

    outcome = run(
        "from PIL import Image\nfrom IPython.display import display\n"
        "img = Image.new('RGB', (2, 2), 'red')",
        show,
        "1 + 1",
    )
    (image,) = outcome.outputs[1]
    decoded = Image.open(io.BytesIO(base64.b64decode(image["data"]["image/png"])))
    assert (decoded.format, decoded.size, decoded.getpixel((0, 0))) == ("PNG", (2, 2), (255, 0, 0))
    assert outcome.outputs[2][0]["data"]["text/plain"] == "2"
    assert outcome.issues == ()


def test_an_output_widget_captures_what_runs_inside_it(run):
    outcome = run(
        "import ipywidgets as widgets\nout = widgets.Output()\n"
        "with out:\n    print('inside')\n    raise ValueError('in the widget')\nprint('outside')",
        "from ipywidgets import interact\n"
        "def boom(x):\n    raise ValueError('callback')\n"
        "interact(boom, x=3);\nprint('after')",
        "with out:\n    pass\nprint('next cell')",
    )
    shown = [
        [o.get("text") for o in cell if o["output_type"] != "display_data"]
        for cell in outcome.outputs
    ]
    assert shown == [["outside\n"], ["after\n"], ["next cell\n"]]


def test_an_output_widget_left_open_does_not_capture_later_cells(run):
    outcome = run(
        "import ipywidgets as widgets\nout = widgets.Output()\nout.__enter__()\nprint('hidden')",
        "print('shown')\n1/0",
    )
    assert outcome.outputs[0] == ()
    assert outcome.outputs[1][0]["text"] == "shown\n"
    assert _errors(outcome.outputs[1])


def test_reaching_the_network_is_flagged(run):
    outcome = run(
        "import socket\ntry:\n    socket.create_connection(('10.1.2.3', 80), timeout=1)\n"
        "except OSError as exc:\n    print(type(exc).__name__)",
        "import socket\ns = socket.socket()\ntry:\n    s.connect(('127.0.0.1', 9))\n"
        "except OSError:\n    pass",
    )
    assert [(i.kind, i.index) for i in outcome.issues] == [("network", 0)]
    assert "10.1.2.3" in outcome.issues[0].detail
