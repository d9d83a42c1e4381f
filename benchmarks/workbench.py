"""The trainee's workbench at idle: time to run a cell, to run the notebook, and to feedback,
against the trivial page measured in the same run.

    .venv/bin/python benchmarks/workbench.py [--runs 20]

A web app on a fresh SQLite file with the embedded queue's worker threads (the default of
`lms serve`), the fixture exercise `squares`, one signed-in trainee, requests through the app's
test client one at a time with a pause between them (idle):

- baseline: GET /login, the trivial page (a template, no database work);
- the exercise page (provided outputs already computed: what a second visit costs);
- "Run up to here" on the first answer cell (POST /exercises/squares/run, upto=1), the answer
  edited before each run, and "Run all cells" (its five code cells, visible tests explained),
  each in a fresh sandbox per run (LMS_RUN_SESSIONS=0) and in the trainee's warm session (an
  edited cell restarts it, so this is the session's worst case);
- "Run up to here" on the edited answer then "Run all cells": the second run timed, in a fresh
  sandbox and in the warm session (which runs only the cells after the answer);
- check my work -> result (POST a check, then poll the status URL on the page's schedule until
  it is finished): one sandboxed run, visible tests only;
- submit -> result: the same with the graded run (visible and hidden tests: two runs).

Prints p50/p95 and each p50 as a multiple of the baseline's; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Sibling scripts are named like modules (grading.py, queue.py): this folder must not shadow
# the real packages; the repository root is what we import from.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent]
sys.path.insert(0, str(ROOT))

from benchmarks.submit_latency import ANSWERS, CONTENT, PASSWORD, line, page_schedule  # noqa: E402

IDLE = 0.3  # seconds between two measured requests


def _app(work: Path):
    """The app on a fresh SQLite file with the fixture content and a signed-in trainee."""
    from lms import create_app
    from lms.extensions import db, make_engine
    from lms.models import Base, User, UserRole
    from lms.services.accounts import hash_password
    from lms.services.content_import import import_content

    os.environ["LMS_INSTANCE_PATH"] = str(work / "instance")
    url = f"sqlite:///{work / 'bench.sqlite'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    app = create_app(
        {
            "SECRET_KEY": "bench",
            "DATABASE_URL": url,
            "WTF_CSRF_ENABLED": False,
            "SUBMISSIONS_PER_MINUTE": 10_000,
            "CHECK_WORK_PER_MINUTE": 10_000,
            "RUNS_PER_MINUTE": 10_000,
        }
    )
    with db.sessionmaker_for(app)() as session:
        import_content(session, CONTENT)
        session.add(
            User(
                email="t@bench.example",
                role=UserRole.TRAINEE,
                password_hash=hash_password(PASSWORD),
            )
        )
        session.commit()
    return app


def _timed(action: Callable[[], None], runs: int) -> list[float]:
    """Seconds per call of `action`, after one unmeasured warm-up call, with idle pauses."""
    action()
    times = []
    for _ in range(runs):
        time.sleep(IDLE)
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    """Measure each step of the workbench and print it against the trivial page."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    from lms.extensions import db
    from lms.queue import get_queue

    app = _app(Path(tempfile.mkdtemp(prefix="atlas-workbench-bench-")))
    trainee = app.test_client()
    trainee.post("/login", data={"email": "t@bench.example", "password": PASSWORD})
    anonymous = app.test_client()
    json_accept = {"Accept": "application/json"}
    tokens = iter(range(1_000_000))

    def trivial() -> None:
        assert anonymous.get("/login").status_code == 200

    def exercise_page() -> None:
        assert trainee.get("/exercises/squares").status_code == 200

    edits = iter(range(1_000_000))

    def run(upto: str | None, sessions: int, edit: int | None = None) -> Callable[[], None]:
        """A run, the answer changed since the last one (as after typing) unless `edit` says
        which edit of it to run again."""

        def action() -> None:
            app.config["RUN_SESSIONS"] = sessions
            data = dict(ANSWERS, **({"upto": upto} if upto else {}))
            number = next(edits) if edit is None else edit
            data["answer-squares"] += f"  # edit {number}"
            response = trainee.post("/exercises/squares/run", data=data, headers=json_accept)
            assert response.status_code == 200 and response.json["cells"], response.json

        return action

    def run_on(sessions: int) -> Callable[[], None]:
        """Edit the answer, run up to it, then run all cells (the tests after it)."""

        def action() -> None:
            number = next(edits)
            run("1", sessions, number)()
            time.sleep(IDLE)
            started = time.perf_counter()
            run(None, sessions, number)()
            on_times.setdefault(sessions, []).append(time.perf_counter() - started)

        return action

    on_times: dict[int, list[float]] = {}

    def feedback(action_name: str) -> Callable[[], None]:
        def action() -> None:
            response = trainee.post(
                "/exercises/squares/submissions",
                data={
                    "token": f"bench-{next(tokens)}",
                    "origin": "browser",
                    "action": action_name,
                    **ANSWERS,
                },
                headers=json_accept,
            )
            assert response.status_code == 202, response.get_data(as_text=True)
            for wait in page_schedule():
                time.sleep(wait)
                status = trainee.get(response.json["status_url"]).json
                if status["finished"]:
                    break
            assert status["status"] == "graded" and status["score"] == 3.0, status

        return action

    queue = get_queue(app)
    queue.start()
    try:
        measured = {
            "baseline: GET /login (trivial page)": _timed(trivial, args.runs),
            "exercise page (second view)": _timed(exercise_page, args.runs),
            "run up to the edited answer, fresh sandbox": _timed(run("1", 0), args.runs),
            "run up to the edited answer, warm session": _timed(run("1", 8), args.runs),
            "run all cells after an edit, fresh sandbox": _timed(run(None, 0), args.runs),
            "run all cells after an edit, warm session": _timed(run(None, 8), args.runs),
            "check my work -> result on the page": _timed(feedback("check"), args.runs),
            "submit -> result on the page": _timed(feedback("submit"), args.runs),
        }
        _timed(run_on(0), args.runs)
        _timed(run_on(8), args.runs)
        measured["then run all (tests after it), fresh sandbox"] = on_times[0][1:]
        measured["then run all (tests after it), warm session"] = on_times[8][1:]
    finally:
        queue.stop()
        db.engine_for(app).dispose()
    print(f"the workbench at idle, squares, embedded SQLite, {args.runs} runs each (+1 warm-up)")
    base = statistics.median(next(iter(measured.values())))
    for label, times in measured.items():
        print(line(label, times) + f"   p50 = {statistics.median(times) / base:6.1f}x baseline")


if __name__ == "__main__":
    main()
