"""Submit -> result on the trainee's page, at idle, on the embedded default; and an sklearn job
with and without the fork server's preload. Baselines are measured in the same run.

    .venv/bin/python benchmarks/submit_latency.py [--runs 20] [--sklearn-runs 5]

1. A web app on a fresh SQLite file with the embedded queue's worker threads (the default of
   `lms serve`), the fixture exercise `squares` (a visible and a hidden test: two sandboxed runs
   per submission), one trainee. Each run submits through the app's test client, as the page's
   script does, then polls the status URL on the page's schedule until the result is in. The
   schedules alternate run by run: the page's (first poll 0.1 s after the submission, 0.1 s
   again, then 1.2x longer up to 2 s) and the one it replaced (a poll at once, then 0.75 s,
   1.5x longer, up to 3 s).
   Baselines, read from the database for the same runs: the grading time (job started ->
   finished) and the server's submit -> graded (submission created -> graded).
2. One job that imports sklearn and fits a model, on a runtime that preloads the default list
   and on one that preloads nothing (each warmed first): the median of each and their ratio.
Prints p50/p95; asserts nothing about wall-clock time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Other scripts here are named like modules (grading.py, queue.py): drop this folder from the
# path so imports find the real packages, and put the repository root first.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent]
sys.path.insert(0, str(ROOT))
CONTENT = ROOT / "tests" / "fixtures" / "content"
PASSWORD = "benchmark password"
ANSWERS = {
    "answer-squares": "def squares(n):\n    return [i * i for i in range(n)]",
    "answer-total": "def total(path):\n    return sum(int(x) for x in open(path).read().split())",
}
SKLEARN_JOB = (
    "from sklearn.linear_model import LinearRegression\n"
    "from sklearn.metrics import mean_squared_error\n"
    "from sklearn.model_selection import train_test_split\n"
    "import numpy as np",
    "x = np.arange(40.0).reshape(-1, 1); y = 3 * x.ravel() + 1\n"
    "model = LinearRegression().fit(x, y)\n"
    "round(mean_squared_error(y, model.predict(x)), 6)",
)


def page_schedule(delay: float = 0.1) -> list[float]:
    """The waits before each poll of exercise.js (each counted from the previous answer, as
    its setTimeout): 0.1 s after the submission, 0.1 s again, then 1.2x longer, up to 2 s."""
    waits = [delay]
    for _ in range(60):
        waits.append(delay)
        delay = min(delay * 1.2, 2.0)
    return waits


def old_schedule() -> list[float]:
    """The schedule it replaced: a poll at once, then 0.75 s, 1.5x longer, up to 3 s."""
    waits, delay = [0.0], 0.5
    for _ in range(60):
        delay = min(delay * 1.5, 3.0)
        waits.append(delay)
    return waits


def percentile(values: list[float], fraction: float) -> float:
    """The `fraction` quantile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def line(label: str, values: list[float]) -> str:
    """p50/p95 of `values` (seconds) in ms."""
    return (
        f"  {label:<46} p50 {statistics.median(values) * 1000:7.0f} ms"
        f"   p95 {percentile(values, 0.95) * 1000:7.0f} ms   (n={len(values)})"
    )


def web_latency(runs: int) -> None:
    """Submit through the app and poll on both schedules; print against the server's times."""
    from sqlalchemy import select

    from lms import create_app
    from lms.extensions import db, make_engine
    from lms.models import Base, GradingJob, Submission, User, UserRole
    from lms.queue import get_queue
    from lms.services.accounts import hash_password
    from lms.services.content_import import import_content

    work = Path(tempfile.mkdtemp(prefix="atlas-submit-bench-"))
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
        }
    )
    sessions = db.sessionmaker_for(app)
    with sessions() as session:
        import_content(session, CONTENT)
        session.add(
            User(
                email="t@bench.example",
                role=UserRole.TRAINEE,
                password_hash=hash_password(PASSWORD),
            )
        )
        session.commit()
    client = app.test_client()
    client.post("/login", data={"email": "t@bench.example", "password": PASSWORD})
    queue = get_queue(app)
    queue.start()
    seen: dict[str, list[float]] = {"page": [], "old": []}
    kinds: dict[int, str] = {}
    elapsed: dict[int, float] = {}
    polls: dict[str, list[int]] = {"page": [], "old": []}
    ids: list[int] = []
    try:
        for number in range(runs + 2):  # the first two warm the sandboxes: not counted
            kind = "page" if number % 2 == 0 else "old"
            waits = page_schedule() if kind == "page" else old_schedule()
            started = time.perf_counter()
            response = client.post(
                "/exercises/squares/submissions",
                data={"token": f"run-{number}", "origin": "browser", "action": "submit", **ANSWERS},
                headers={"Accept": "application/json"},
            )
            assert response.status_code == 202, response.get_data(as_text=True)
            status_url = response.json["status_url"]
            count = 0
            for wait in waits:
                time.sleep(wait)
                status, count = client.get(status_url).json, count + 1
                if status["finished"]:
                    break
            assert status["status"] == "graded" and status["score"] == 3.0, status
            if number >= 2:
                seen[kind].append(time.perf_counter() - started)
                elapsed[status["id"]] = seen[kind][-1]
                polls[kind].append(count)
                ids.append(status["id"])
                kinds[status["id"]] = kind
            time.sleep(0.5)  # idle between submissions
    finally:
        queue.stop()
    with sessions() as session:
        rows = session.execute(
            select(Submission.id, Submission.created_at, Submission.graded_at,
                   GradingJob.started_at, GradingJob.finished_at)
            .join(GradingJob, GradingJob.submission_id == Submission.id)
            .where(Submission.id.in_(ids))
        ).all()  # fmt: skip
    db.engine_for(app).dispose()
    grading = [(f - s).total_seconds() for _, _, _, s, f in rows]
    server = {i: (g - c).total_seconds() for i, c, g, _, _ in rows}
    lag = {kind: [elapsed[i] - server[i] for i in ids if kinds[i] == kind] for kind in seen}
    print(f"submit -> result, squares (visible + hidden run), idle, embedded SQLite, {runs} runs")
    print(line("baseline: grading (job started -> finished)", grading))
    print(line("baseline: server submit -> graded", list(server.values())))
    print(line("page, first poll 0.1 s then x1.2 (now)", seen["page"]))
    print(line("page, poll at once then 0.75 s x1.5 (before)", seen["old"]))
    print(line("page lag after graded (now)", lag["page"]))
    print(line("page lag after graded (before)", lag["old"]))
    for kind in ("page", "old"):
        print(f"  polls per result ({kind}): median {statistics.median(polls[kind]):.0f}")
    base = statistics.median(server.values())
    print(
        f"  page p50 / server p50: now {statistics.median(seen['page']) / base:.2f}x,"
        f" before {statistics.median(seen['old']) / base:.2f}x"
    )


def sklearn_job(runs: int) -> None:
    """An sklearn-importing job on a preloading runtime and on a bare one."""
    from grading.runtime import RunRequest, Runtime
    from grading.runtime.pool import DEFAULT_PRELOAD

    request = RunRequest(cells=SKLEARN_JOB, files={}, cell_timeout=120.0, env={})
    medians = {}
    for label, preload in (("bare (numpy, pandas only)", ("numpy", "pandas")),
                           ("preloaded (default list)", DEFAULT_PRELOAD)):  # fmt: skip
        started = time.perf_counter()
        with Runtime(slots=1, preload=preload) as runtime:
            runtime.run(request)  # warm: the fork server is up, the first fork paid
            start_up = time.perf_counter() - started
            times = []
            for _ in range(runs):
                began = time.perf_counter()
                outcome = runtime.run(request)
                times.append(time.perf_counter() - began)
                assert not outcome.issues, outcome.issues
        medians[label] = statistics.median(times)
        print(line(f"sklearn job, {label}", times) + f"   start-up + 1st {start_up:.1f} s")
    bare, preloaded = medians.values()
    print(f"  sklearn job: preloaded is {bare / preloaded:.1f}x faster than bare")


def main() -> None:
    """Run both measurements."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--sklearn-runs", type=int, default=5)
    args = parser.parse_args()
    web_latency(args.runs)
    if args.sklearn_runs:
        sklearn_job(args.sklearn_runs)


if __name__ == "__main__":
    main()
