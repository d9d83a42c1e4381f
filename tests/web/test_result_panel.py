"""The result panel teaches: why a visible test failed, that a hidden check failed (never what
it is), what "check my work" cannot see, and sandbox events in plain words (EN and FR)."""

from __future__ import annotations

import pytest

from lms.web.result_panel import sandbox_events

RIGHT = {
    "squares": "def squares(n):\n    return [i * i for i in range(n)]",
    "total": "def total(path):\n    return sum(int(x) for x in open(path).read().split())",
}
# Passes the visible test (squares(3)) but not the hidden one (squares(0) == []).
TRICKY = dict(RIGHT, squares="def squares(n):\n    return [0, 1, 4] if n else [9]")


@pytest.fixture
def trainee(auth, users, content):
    """The signed-in trainee, with the fixture course imported."""
    auth.login(users.trainee)
    return auth


def _submit(client, trainee, answers: dict[str, str], action: str = "submit") -> str:
    page = client.get("/exercises/squares").get_data(as_text=True)
    token = page.split('name="token" value="')[1].split('"')[0]
    data = {
        "csrf_token": trainee.csrf_token_from(page),
        "token": token,
        "origin": "browser",
        "action": action,
        **{f"answer-{k}": v for k, v in answers.items()},
    }
    response = client.post(
        "/exercises/squares/submissions", data=data, headers={"Accept": "application/json"}
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    return response.json["status_url"]


def _checks(status: dict) -> dict[str, dict]:
    return {c["grade_id"]: c for c in status["checks"]}


def test_a_failing_visible_assertion_shows_line_error_expected_and_got(
    run_jobs, client, trainee
) -> None:
    url = _submit(client, trainee, dict(RIGHT, squares="def squares(n):\n    return [1]"))
    run_jobs()
    status = client.get(url).json
    check = _checks(status)["test_squares"]
    assert check["visible"] == "failed" and check["has_hidden"]
    assert check["code"] == "assert squares(3) == [0, 1, 4]" and check["line"] == 1
    assert check["ename"] == "AssertionError"
    compare = {"op": "==", "left": "[1]", "right": "[0, 1, 4]", "expected": "right"}
    assert check["compare"] == compare
    assert "HIDDEN-MARKER" not in client.get(url).get_data(as_text=True)


def test_visible_pass_hidden_fail_is_said_and_the_hidden_test_is_not(
    run_jobs, client, trainee
) -> None:
    url = _submit(client, trainee, TRICKY)
    run_jobs()
    status = client.get(url).json
    check = _checks(status)["test_squares"]
    cell = {c["grade_id"]: c for c in status["cells"]}["test_squares"]
    assert (check["visible"], check["has_hidden"], cell["score"]) == ("passed", True, 0.0)
    assert check["code"] is None and check["compare"] is None
    text = client.get(url).get_data(as_text=True)
    assert "HIDDEN-MARKER" not in text and "squares(0)" not in text
    page = client.get(status["page_url"]).get_data(as_text=True)
    assert "a hidden check of this cell failed" in page  # the panel's words
    assert "HIDDEN-MARKER" not in page and "squares(0)" not in page


def test_check_my_work_is_labelled_visible_only_with_the_hidden_points(
    run_jobs, client, trainee
) -> None:
    url = _submit(client, trainee, TRICKY, action="check")
    run_jobs()
    status = client.get(url).json
    assert status["purpose"] == "check" and status["hidden_points"] == 2.0
    assert status["score"] == 3.0
    page = client.get(status["page_url"]).get_data(as_text=True)
    assert "Visible checks only" in page and "{n} of the points" in page


ECHO = (
    "def squares(n):\n"
    "    import sys, gc\n"
    "    seen = []\n"
    "    try:\n"
    "        seen.append(repr(sys._getframe(1).f_code.co_consts))\n"
    "    except BaseException as exc:\n"
    "        seen.append(repr(exc))\n"
    "    try:\n"
    "        seen += [o for o in gc.get_objects() if isinstance(o, str) and 'MARKER' in o]\n"
    "    except BaseException as exc:\n"
    "        seen.append(repr(exc))\n"
    "    print(seen)\n"
    "    raise AssertionError(' '.join(map(str, seen)))\n"
)


@pytest.mark.parametrize("action", ["submit", "check"])
def test_hidden_text_stays_out_even_when_the_code_echoes_what_it_sees(
    run_jobs, client, trainee, action
) -> None:
    url = _submit(client, trainee, dict(RIGHT, squares=ECHO), action=action)
    run_jobs()
    status = client.get(url).json
    assert status["status"] == "graded"
    for text in (
        client.get(url).get_data(as_text=True),
        client.get(status["page_url"]).get_data(as_text=True),
        client.get(status["feedback_url"]).get_data(as_text=True),
    ):
        assert "HIDDEN-MARKER" not in text and "squares(0)" not in text


def test_sandbox_events_in_plain_words_in_english_and_french(app) -> None:
    flags = ["timeout:test_squares", "memory:cell-3", "protocol-violation:oversized", "tampered:x"]
    with app.test_request_context():
        english = sandbox_events(flags, 30.0)
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        from flask_babel import refresh

        refresh()
        french = sandbox_events(flags, 30.0)
    assert [e["cell"] for e in english] == ["test_squares", "cell-3", None]
    assert english[0]["text"].startswith("test_squares ran longer than its time limit (30 s)")
    assert english[1]["text"].startswith("Cell 3 used more memory than allowed")
    assert "report channel" in english[2]["text"]
    assert french[0]["text"].startswith("test_squares a dépassé sa limite de temps (30 s)")
    assert french[1]["text"].startswith("La cellule 3 a utilisé plus de mémoire")


def test_a_timeout_is_explained_in_the_status(run_jobs, client, trainee) -> None:
    slow = dict(RIGHT, total="import time\ntime.sleep(3600)\ndef total(path):\n    return 6")
    url = _submit(client, trainee, slow)
    run_jobs()
    status = client.get(url).json
    kinds = {e["kind"] for e in status["events"]}
    assert "timeout" in kinds, status["flags"]
