"""`lms grade` answers for every submission, whatever one of them did: a hostile notebook gets a
graded result with its flag, a grader failure a `failed` object, and the others their scores;
under a machine oversubscribed 4x it still starts and prints valid JSON."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from fixtures_core import DATA_FILES, cell, exercise_source, submission

import grading
from lms.cli import main

GOOD = {"status": "graded", "score": 3.0, "max_score": 6.0}


@pytest.fixture
def exercise(tmp_path: Path) -> Path:
    folder = tmp_path / "exercise"
    folder.mkdir()
    (folder / "source.ipynb").write_text(exercise_source())
    for name, data in DATA_FILES.items():
        (folder / name).write_bytes(data)
    return folder / "source.ipynb"


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _subset(answer: dict, keys=("status", "score", "max_score")) -> dict:
    return {key: answer[key] for key in keys}


def _grade(exercise: Path, *paths: Path, extra: tuple[str, ...] = ()):
    args = ["grade", "--source", str(exercise), *map(str, paths), *extra, "--json"]
    result = CliRunner().invoke(main, args)
    return result, json.loads(result.stdout)


def test_a_list_of_ints_display_and_a_deep_frame_cost_no_one_else_their_result(exercise, tmp_path):
    ints = _write(
        tmp_path,
        "ints.ipynb",
        submission(
            add_body="    return a + b\nfrom IPython.display import display\n"
            "display({'text/plain': [1, 2, 3]}, raw=True)"
        ),
    )
    deep = _write(
        tmp_path,
        "deep.ipynb",
        submission(
            add_body="    return a + b\nimport os, socket, struct\n"
            "fd = [int(f) for f in os.listdir('/proc/self/fd')\n"
            "      if os.path.exists(f'/proc/self/fd/{f}')\n"
            "      and os.readlink(f'/proc/self/fd/{f}').startswith('socket:')][0]\n"
            'body = b\'{"t":"progress","i":0,"outputs":\'\n'
            "body += b'[' * 100000 + b']' * 100000 + b'}'\n"
            "socket.socket(fileno=os.dup(fd)).sendall(struct.pack('>I', len(body)) + body)"
        ),
    )
    good = _write(tmp_path, "good.ipynb", submission(explain="commutative"))

    result, answers = _grade(exercise, ints, good, deep, good)

    assert result.exit_code == 0, result.output
    assert [a["submission"] for a in answers] == [str(ints), str(good), str(deep), str(good)]
    assert "protocol-violation:bad-output" in answers[0]["flags"]
    assert "protocol-violation:too-deep" in answers[2]["flags"]
    for hostile in (answers[0], answers[2]):
        assert _subset(hostile) == {"status": "graded", "score": 0.0, "max_score": 6.0}
    assert _subset(answers[1]) == GOOD and _subset(answers[3]) == GOOD


def test_budget_option_bounds_a_notebook(exercise, tmp_path):
    slow = _write(
        tmp_path,
        "slow.ipynb",
        submission(add_body="    return a + b\nimport time\ntime.sleep(60)", explain="x"),
    )
    result, (answer,) = _grade(exercise, slow, extra=("--timeout", "30", "--budget", "2"))
    assert result.exit_code == 0, result.output
    assert "budget:add" in answer["flags"]
    assert answer["score"] == 0.0


def test_a_grader_failure_on_one_notebook_is_a_failed_answer(exercise, tmp_path, monkeypatch):
    real_grade = grading.grade

    def grade_with_a_bug(job, runtime=None, **kwargs):
        if job.name.endswith("bug.ipynb"):
            raise RuntimeError("a bug in the grader")
        return real_grade(job, runtime, **kwargs)

    monkeypatch.setattr(grading, "grade", grade_with_a_bug)
    bug = _write(tmp_path, "bug.ipynb", submission())
    good = _write(tmp_path, "good.ipynb", submission(explain="commutative"))

    result, answers = _grade(exercise, bug, good)

    assert result.exit_code == 1  # the grader failed on one: not a success, but an answer each
    failed, graded = answers
    assert failed["status"] == "failed" and failed["max_score"] == 6.0
    assert "a bug in the grader" in failed["error"] and "again" in failed["error"]
    assert list(failed) == list(graded)  # the same contract keys
    assert _subset(graded) == GOOD


def test_no_sandbox_still_answers_every_submission(exercise, tmp_path, monkeypatch):
    import grading.runtime

    def unavailable(*args, **kwargs):
        raise grading.runtime.SandboxUnavailable("no namespaces here")

    monkeypatch.setattr(grading.runtime, "Runtime", unavailable)
    paths = [_write(tmp_path, f"s{i}.ipynb", submission()) for i in range(2)]
    result, answers = _grade(exercise, *paths)
    assert result.exit_code == 1
    assert [a["status"] for a in answers] == ["failed", "failed"]
    assert all("no namespaces here" in a["error"] for a in answers)


@pytest.fixture
def oversubscribed():
    """8 busy processes on this machine (4x its 2 cores), ended by this fixture's teardown."""
    busy = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True)
        for _ in range(8)
    ]
    yield
    for process in busy:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()


def test_the_fork_server_start_waits_on_progress_not_a_deadline(oversubscribed, monkeypatch):
    # Allow only 2 s without any processor time used: a busy machine still starts the server
    # (it keeps using processor time), where a 2 s start deadline would fail on this load.
    from grading.runtime import RunRequest, Runtime, pool

    monkeypatch.setattr(pool, "_START_STALL", 2.0)
    with Runtime(slots=1) as runtime:
        outcome = runtime.run(RunRequest(cells=("6 * 7",)))
    assert outcome.outputs[0][0]["data"]["text/plain"] == "42"


def test_lms_grade_answers_on_an_oversubscribed_machine(exercise, tmp_path, oversubscribed):
    # The finding: the fork server missed its fixed start deadline; exit 1 and no JSON.
    good = _write(tmp_path, "good.ipynb", submission(explain="commutative"))
    wrong = _write(tmp_path, "wrong.ipynb", submission(add_body="    return a - b"))
    lms = Path(sys.executable).with_name("lms")
    out = subprocess.run(
        [str(lms), "grade", "--source", str(exercise), str(good), str(wrong), "--json"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    answers = json.loads(out.stdout)
    assert _subset(answers[0]) == GOOD
    assert _subset(answers[1]) == {"status": "graded", "score": 1.0, "max_score": 6.0}


def test_without_feedback_pages_the_answers_are_the_same(exercise, tmp_path):
    # Without --feedback, no second run (visible tests only) is made: nobody reads it.
    good = _write(tmp_path, "good.ipynb", submission(explain="commutative"))
    wrong = _write(tmp_path, "wrong.ipynb", submission(add_body="    return a - b"))

    def edited(nb):
        test = cell(nb, "test_add")
        test["source"] = "assert True"

    tampered = _write(tmp_path, "tampered.ipynb", submission(edit=edited))
    plain, answers = _grade(exercise, good, wrong, tampered)
    pages = tmp_path / "pages"
    with_pages, answers_with_pages = _grade(
        exercise, good, wrong, tampered, extra=("--feedback", str(pages))
    )
    assert plain.exit_code == with_pages.exit_code == 0
    assert answers == answers_with_pages
    assert len(list(pages.iterdir())) == 3
    assert _subset(answers[0]) == GOOD and answers[1]["score"] == 1.0
    assert any(flag.startswith("tampered:") for flag in answers[2]["flags"])
