"""Time the recruiter's pages over a large cohort against the sign-in page, in the same run.

    .venv/bin/python benchmarks/readiness_pages.py [--trainees 2000] [--exercises 60] [--runs 5]
        [--database sqlite] [--database postgresql] [--postgres-url postgresql://127.0.0.1:5432/test]

For each database (SQLite by default; `postgresql` creates a database of its own on the
server of --postgres-url and drops it afterwards):

1. Migrates a fresh database (`lms db upgrade`), writes a content tree of EXERCISES exercises
   (copies of the test fixture's notebook, each mapped to two of six skills, one in four an
   assessment) and imports it with `lms import`'s service.
2. Seeds TRAINEES trainees with six months of graded history, up to now, with `lms seed`'s
   service (PostgreSQL then gathers its planner statistics, as its autovacuum soon would).
3. Times, through the WSGI test client signed in as a recruiter, the sign-in page (the simplest
   page: the baseline), the pipeline of every role, one role's pipeline, the candidate list (by
   readiness, and by a skill), one candidate's report and the list's CSV export; prints the
   median (and the slowest) of RUNS and each page's ratio to the baseline: from an empty
   readiness cache ("empty": the first view after the server starts; once, on the first page),
   cold just after a new graded result of the reported candidate ("new result": one graded
   submission added before each request, nothing else changed) and with nothing changed since
   the last view ("cached"), plus the SQL query count of a view after a new result.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event, make_url, select

ROOT = Path(__file__).resolve().parent.parent
# Other scripts here are named like modules (grading.py, queue.py): drop this folder from the
# path so imports find the real packages, and put the repository root first.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent]
sys.path.insert(0, str(ROOT))
FIXTURE = ROOT / "tests" / "fixtures" / "content" / "exercises" / "squares"
SKILLS = (
    "python-basics",
    "testing",
    "sql-joins",
    "data-quality",
    "pandas-cleaning",
    "etl-idempotency",
)
PASSWORD = "benchmark password"


def write_content(root: Path, exercises: int) -> None:
    """A content tree: skills, two roles, one course of `exercises` notebook exercises."""
    (root / "courses" / "bench").mkdir(parents=True)
    (root / "courses" / "skills.yml").write_text(
        "skills:\n" + "".join(f"  - {{id: {s}, name: {s}, track: data}}\n" for s in SKILLS)
    )
    (root / "courses" / "roles.yml").write_text(
        "roles:\n"
        "  - id: data-engineer\n    name: Data engineer\n    track: data\n    skills:\n"
        + "".join(
            f"      - {{skill: {s}, level: 0.6, weight: {1 + i % 3},"
            f" critical: {'true' if i < 3 else 'false'}}}\n"
            for i, s in enumerate(SKILLS)
        )
        + "  - id: analyst\n    name: Analyst\n    track: data\n    skills:\n"
        + "".join(
            f"      - {{skill: {s}, level: 0.55, weight: 1, critical: true}}\n" for s in SKILLS[:3]
        )
        + "hiring_plan:\n  - {role: data-engineer, count: 40, by: 2027-06-30}\n"
        "  - {role: analyst, count: 15, by: 2027-06-30}\n"
    )
    slugs = []
    for number in range(exercises):
        slug = f"bench-{number + 1:03d}"
        slugs.append(slug)
        target = root / "exercises" / slug
        shutil.copytree(FIXTURE, target)
        first, second = SKILLS[number % 6], SKILLS[(number + 1) % 6]
        kind = "assessment" if number % 4 == 3 else "practice"
        (target / "exercise.yml").write_text(
            f"title: Exercise {number + 1}\nkind: {kind}\nnotebook: squares.ipynb\n"
            f"files: [data/numbers.txt]\nskills:\n  test_squares: [{first}]\n"
            f"  test_total: [{first}, {second}]\n"
        )
    modules = "".join(
        f"  - slug: m{m}\n    title: Module {m}\n    lessons: []\n"
        f"    exercises: [{', '.join(chunk)}]\n"
        for m, chunk in enumerate((slugs[i : i + 10] for i in range(0, len(slugs), 10)), 1)
    )
    (root / "courses" / "bench" / "course.yml").write_text(
        "slug: bench\ntitle: Benchmark course\ntrack: data\nlanguage: en\nsummary: x\n"
        f"modules:\n{modules}"
    )


def median_seconds(client, path: str, runs: int, before=lambda: None) -> tuple[float, float]:
    """The median and the longest wall time of `runs` GETs of `path` (after one warm-up;
    `before` each run)."""
    assert client.get(path).status_code == 200, path
    times = []
    for _ in range(runs):
        before()
        start = time.perf_counter()
        response = client.get(path)
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, path
    return statistics.median(times), max(times)


def add_result(app, trainee_ids: list[int], counter: list[int]) -> None:
    """One new graded submission (full marks on its cells) of one trainee, as the grader
    leaves it: what happens each time a trainee hands in work."""
    from sqlalchemy import select

    from lms.extensions import db
    from lms.models import (
        CellGrade,
        Exercise,
        GradeCell,
        GradingJob,
        JobStatus,
        Submission,
        SubmissionPurpose,
        utcnow,
    )
    from lms.services.blobs import put_blob

    counter[0] += 1
    with db.sessionmaker_for(app)() as session:
        exercise = session.scalars(select(Exercise).order_by(Exercise.id)).first()
        cells = session.scalars(select(GradeCell).where(GradeCell.exercise_id == exercise.id))
        submission = Submission(
            user_id=trainee_ids[counter[0] % len(trainee_ids)],
            exercise_id=exercise.id,
            purpose=SubmissionPurpose.GRADE,
            origin="upload",
            idempotency_token=f"bench-new-{counter[0]}",
            notebook_sha256=put_blob(session, f'{{"bench": {counter[0]}}}'.encode()),
            notebook_name="new.ipynb",
            graded_at=utcnow(),
            cells=[
                CellGrade(
                    grade_id=cell.grade_id,
                    kind="test",
                    score=cell.max_score,
                    max_score=cell.max_score,
                    needs_manual_grade=False,
                )
                for cell in cells
                if cell.max_score and cell.kind == "test"
            ],
        )
        session.add_all([submission, GradingJob(submission=submission, status=JobStatus.DONE)])
        session.commit()


def build(url: str, work: Path, trainees: int, exercises: int):
    """Migrate `url`, import the content, seed the cohort; the app."""
    from lms import create_app
    from lms.extensions import db
    from lms.migrations import upgrade
    from lms.models import User, UserRole
    from lms.services.accounts import hash_password
    from lms.services.content_import import import_content
    from lms.services.seed import seed_cohort

    upgrade(url)
    write_content(work / "content", exercises)
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": url, "WTF_CSRF_ENABLED": False}
    )
    started = time.perf_counter()
    with db.sessionmaker_for(app)() as session:
        import_content(session, work / "content")
        session.add(
            User(
                email="recruiter@bench.example",
                role=UserRole.RECRUITER,
                password_hash=hash_password(PASSWORD),
            )
        )
        session.commit()
        summary = seed_cohort(session, trainees, months=6, seed=1)
        if not url.startswith("sqlite"):
            session.connection().exec_driver_sql("ANALYZE")
            session.commit()
    print(
        f"cohort: {summary.trainees} trainees x {summary.exercises} exercises,"
        f" {summary.submissions} submissions, {summary.cells} graded cells"
        f" (built in {time.perf_counter() - started:.0f} s)"
    )
    return app


def time_pages(app, runs: int) -> None:
    """Print the table of one database."""
    from lms.extensions import db
    from lms.models import User, UserRole
    from lms.services import role_readiness
    from lms.services.talent import shared_trainee_ids

    client = app.test_client()
    baseline = median_seconds(client, "/login", runs)[0]
    client.post("/login", data={"email": "recruiter@bench.example", "password": PASSWORD})
    with db.sessionmaker_for(app)() as session:
        trainees = list(session.scalars(select(User.id).where(User.role == UserRole.TRAINEE)))
        candidate = min(shared_trainee_ids(session, trainees))
    pages = (
        "/recruiter/",
        "/recruiter/roles/data-engineer/pipeline",
        "/recruiter/roles/data-engineer/candidates",
        "/recruiter/roles/data-engineer/candidates?skill=sql-joins&sort=skill",
        f"/recruiter/candidates/{candidate}",
        "/recruiter/roles/data-engineer/candidates.csv",
    )
    queries: list[str] = []
    event.listen(db.engine_for(app), "before_cursor_execute", lambda *a: queries.append(a[2]))
    counter = [0]

    def new_result() -> None:
        add_result(app, [candidate], counter)

    print(
        f"{'page':<58} {'empty':>9} {'x login':>7} {'new result (max)':>18} {'x login':>7}"
        f" {'cached':>9} {'x login':>7} {'queries':>7}"
    )
    print(f"{'/login (baseline)':<58} {baseline * 1000:7.1f}ms {1.0:7.1f}")
    for number, page in enumerate(pages):
        # Scoring the whole cohort (once per process start) is timed once, on the first page.
        empty = float("nan")
        if number == 0:
            role_readiness.cache.clear()
            start = time.perf_counter()
            assert client.get(page).status_code == 200, page
            empty = time.perf_counter() - start
        new_result()
        queries.clear()
        client.get(page)
        count = len(queries)
        after_result, slowest = median_seconds(client, page, runs, new_result)
        warm = median_seconds(client, page, runs)[0]
        print(
            f"{page:<58} {empty * 1000:7.1f}ms {empty / baseline:7.1f}"
            f" {after_result * 1000:7.1f} ({slowest * 1000:5.0f})ms {after_result / baseline:7.1f}"
            f" {warm * 1000:7.1f}ms {warm / baseline:7.1f} {count:7d}"
        )
    db.engine_for(app).dispose()


@contextmanager
def database(kind: str, work: Path, postgres_url: str):
    """A fresh database URL: a SQLite file, or a PostgreSQL database dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{work / 'bench.sqlite'}"
        return
    import psycopg

    server = make_url(postgres_url).set(drivername="postgresql")
    admin = server.render_as_string(hide_password=False)
    name = f"atlas_pages_{os.getpid()}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(drivername="postgresql+psycopg", database=name).render_as_string(
            hide_password=False
        )
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    """Build the cohort, time the pages, print the ratios, for each database."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trainees", type=int, default=2000)
    parser.add_argument("--exercises", type=int, default=60)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--database", action="append", choices=("sqlite", "postgresql"), dest="databases"
    )
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()

    for kind in args.databases or ["sqlite"]:
        work = Path(tempfile.mkdtemp(prefix="atlas-readiness-bench-"))
        os.environ["LMS_INSTANCE_PATH"] = str(work / "instance")
        try:
            with database(kind, work, args.postgres_url) as url:
                print(f"== {kind}")
                app = build(url, work, args.trainees, args.exercises)
                time_pages(app, args.runs)
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
