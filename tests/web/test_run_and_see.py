"""Run and see: the typed answers run in the grading sandbox (release cells, no hidden tests)
and their outputs come back per cell; provided cells show their outputs on first view."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from lms.services.content_import import import_content

FIXTURE = Path(__file__).parent.parent / "fixtures" / "content"
SQUARES = "def squares(n):\n    return [i * i for i in range(n)]"
TOTAL = "def total(path):\n    return sum(int(x) for x in open(path).read().split())"


@pytest.fixture
def provided_content(tmp_path: Path, app, session):
    """The fixture content with a provided code cell (no nbgrader role) after the intro."""
    tree = tmp_path / "content"
    shutil.copytree(FIXTURE, tree)
    path = tree / "exercises" / "squares" / "squares.ipynb"
    nb = json.loads(path.read_text())
    provided = (
        "import pandas as pd\nRAW = pd.DataFrame({'n': [1, 2, 3]})\nprint('provided')\nRAW.head()"
    )
    nb["cells"].insert(
        1,
        {
            "cell_type": "code",
            "execution_count": None,
            "id": "provided1",
            "metadata": {},
            "outputs": [],
            "source": provided,
        },
    )
    path.write_text(json.dumps(nb))
    return import_content(session, tree)


@pytest.fixture
def trainee(auth, users):
    """The signed-in trainee."""
    auth.login(users.trainee)
    return auth


def _run(client, trainee, answers: dict[str, str], upto: int | None = None):
    page = client.get("/exercises/squares").get_data(as_text=True)
    data = {"csrf_token": trainee.csrf_token_from(page)}
    data.update({f"answer-{k}": v for k, v in answers.items()})
    if upto is not None:
        data["upto"] = str(upto)
    return client.post("/exercises/squares/run", data=data, headers={"Accept": "application/json"})


def test_provided_cells_show_their_outputs_on_first_view(client, provided_content, trainee):
    page = client.get("/exercises/squares").get_data(as_text=True)
    assert 'data-cell="1"' in page and "provided" in page
    assert "   n\n0  1\n1  2\n2  3" in page  # RAW.head(), as text
    assert "output-error" not in page  # unanswered cells' errors are not shown


def test_run_all_shows_each_cells_outputs_and_explains_a_failed_test(
    client, provided_content, trainee
):
    wrong = "def squares(n):\n    print('computing', n)\n    return [1]"
    response = _run(client, trainee, {"squares": wrong, "total": TOTAL})
    assert response.status_code == 200, response.get_data(as_text=True)
    cells = {c["index"]: c for c in response.json["cells"]}
    assert [o["text"] for o in cells[1]["outputs"]][0] == "provided\n"
    assert cells[2]["outputs"] == []  # the answer defines a function: no output
    printed, error = cells[3]["outputs"]  # the test called squares, which prints
    assert printed == {"kind": "stdout", "text": "computing 3\n"}
    assert error["kind"] == "error" and "assert squares(3) == [0, 1, 4]" in error["text"]
    assert "[1]" in error["text"]
    assert cells[5]["outputs"] == []  # test_total passes
    text = response.get_data(as_text=True)
    assert "HIDDEN-MARKER" not in text and "squares(0)" not in text


def test_run_up_to_a_cell_runs_nothing_after_it(client, provided_content, trainee):
    response = _run(client, trainee, {"squares": SQUARES + "\nprint(squares(4))"}, upto=2)
    assert response.status_code == 200
    cells = response.json["cells"]
    assert [c["index"] for c in cells] == [1, 2]
    assert cells[1]["outputs"] == [{"kind": "stdout", "text": "[0, 1, 4, 9]\n"}]


def test_a_run_never_holds_hidden_tests_even_when_the_code_looks_for_them(client, content, trainee):
    snoop = (
        "import gc\n"
        "print([o for o in gc.get_objects() if isinstance(o, str) and 'MARKER' in o][:5])\n"
        "print(open('/proc/self/cmdline').read())\n" + SQUARES
    )
    response = _run(client, trainee, {"squares": snoop, "total": TOTAL})
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "HIDDEN-MARKER" not in text and "squares(0)" not in text


def test_a_timeout_is_said_in_plain_words(client, content, trainee, app):
    app.config["RUNS_PER_MINUTE"] = 30
    slow = "import time\ntime.sleep(3600)\n" + SQUARES
    response = _run(client, trainee, {"squares": slow}, upto=1)
    assert response.status_code == 200
    assert [e["kind"] for e in response.json["events"]] == ["timeout"]
    assert "ran longer than its time limit" in response.json["events"][0]["text"]


def test_bad_input_and_limits_get_clear_errors(client, content, trainee, app):
    bad = _run(client, trainee, {"squares": SQUARES}, upto=99)
    assert bad.status_code == 400 and "There is no cell 100" in bad.json["error"]
    page = client.get("/exercises/squares").get_data(as_text=True)
    token = trainee.csrf_token_from(page)
    worse = client.post(
        "/exercises/squares/run",
        data={"csrf_token": token, "upto": "-1"},
        headers={"Accept": "application/json"},
    )
    assert worse.status_code == 400 and "cell number" in worse.json["error"]
    app.config["RUNS_PER_MINUTE"] = 1
    from lms.services import notebook_runs

    notebook_runs._recent.clear()
    assert _run(client, trainee, {"squares": SQUARES}, upto=1).status_code == 200
    limited = _run(client, trainee, {"squares": SQUARES}, upto=1)
    assert limited.status_code == 429 and "1 times a minute" in limited.json["error"]
    notebook_runs._recent.clear()


def test_only_signed_in_learners_with_a_csrf_token_may_run(client, content, users, auth):
    anonymous = client.post("/exercises/squares/run", data={"answer-squares": SQUARES})
    assert anonymous.status_code in (302, 400, 401) and b"cells" not in anonymous.data
    auth.login(users.recruiter)
    token = auth.token("/recruiter")
    refused = client.post(
        "/exercises/squares/run",
        data={"csrf_token": token, "answer-squares": SQUARES},
        headers={"Accept": "application/json"},
    )
    assert refused.status_code == 403
    auth.login(users.trainee)
    no_token = client.post("/exercises/squares/run", data={"answer-squares": SQUARES})
    assert no_token.status_code == 400


# What the web process has and a sandbox must not: its own pid, its database, its secret.
PROBE = (
    "import os, json\n"
    "print(json.dumps({'pid': os.getpid(), 'uid': os.getuid(), 'env': sorted(os.environ),"
    " 'cwd': os.getcwd(), 'files': sorted(os.listdir('.')),"
    " 'db': os.path.exists(%r)}))\n" + SQUARES
)


def test_a_run_executes_in_the_grading_sandbox_not_in_the_web_process(
    client, content, trainee, app
):
    database = app.config["DATABASE_URL"].removeprefix("sqlite:///")
    response = _run(client, trainee, {"squares": PROBE % database}, upto=1)
    seen = json.loads(response.json["cells"][0]["outputs"][0]["text"])
    from grading.runtime import get_runtime

    assert seen["uid"] in get_runtime().sandbox_uids and seen["uid"] != os.getuid()
    assert seen["pid"] != os.getpid() and seen["cwd"] == "/home/trainee"
    assert seen["files"] == ["data"] and seen["db"] is False
    assert not [name for name in seen["env"] if name.startswith(("LMS_", "SECRET", "DATABASE"))]


def test_two_trainees_runs_never_share_a_session(client, content, users, auth, app):
    plant = "import builtins\nbuiltins.planted = 'from-the-first-trainee'\n" + SQUARES
    look = "import builtins\nprint(getattr(builtins, 'planted', 'nothing'))\n" + SQUARES
    auth.login(users.trainee)
    assert _run(client, auth, {"squares": plant}, upto=1).status_code == 200
    own = _run(client, auth, {"squares": plant, "total": look.replace(SQUARES, TOTAL)})
    assert own.json["cells"][2]["outputs"][0]["text"] == "from-the-first-trainee\n"
    auth.logout()
    auth.login(users.other_trainee)
    other = _run(client, auth, {"squares": look}, upto=1)
    assert other.json["cells"][0]["outputs"][0]["text"] == "nothing\n"
