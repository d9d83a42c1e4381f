"""Time the recruiter's pages over a large cohort against the sign-in page, in the same run.

    .venv/bin/python benchmarks/readiness_pages.py [--trainees 500] [--exercises 60] [--runs 5]

1. Writes a content tree of EXERCISES exercises (copies of the test fixture's notebook, each
   mapped to two of six skills, one in four an assessment) and imports it with `lms import`'s
   service into a fresh SQLite file (or LMS_DATABASE_URL, which is then wiped).
2. Seeds TRAINEES trainees with six months of graded history with `lms seed`'s service.
3. Times, through the WSGI test client signed in as a recruiter, the sign-in page (the simplest
   page: the baseline), the pipeline, the candidate list, and its CSV export; prints the median of
   RUNS and each page's ratio to the baseline, computed from scratch ("cold": the readiness cache
   emptied before each request, as after any new grade) and from the cache ("cached": data
   unchanged since the last view), plus the SQL query count of a cold view.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event, text

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


def median_seconds(client, path: str, runs: int, before=lambda: None) -> float:
    """The median wall time of `runs` GETs of `path` (after one warm-up; `before` each run)."""
    assert client.get(path).status_code == 200, path
    times = []
    for _ in range(runs):
        before()
        start = time.perf_counter()
        response = client.get(path)
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, path
    return statistics.median(times)


def main() -> None:
    """Build the cohort, time the pages, print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trainees", type=int, default=500)
    parser.add_argument("--exercises", type=int, default=60)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from lms import create_app
    from lms.extensions import db, make_engine
    from lms.models import Base, User, UserRole
    from lms.services import role_readiness
    from lms.services.accounts import hash_password
    from lms.services.content_import import import_content
    from lms.services.seed import seed_cohort

    work = Path(tempfile.mkdtemp(prefix="atlas-readiness-bench-"))
    os.environ["LMS_INSTANCE_PATH"] = str(work / "instance")
    url = os.environ.get("LMS_DATABASE_URL") or f"sqlite:///{work / 'bench.sqlite'}"
    engine = make_engine(url)
    with engine.begin() as connection:
        if not url.startswith("sqlite"):
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    Base.metadata.create_all(engine)
    engine.dispose()
    try:
        write_content(work / "content", args.exercises)
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
            summary = seed_cohort(session, args.trainees, months=6, seed=1)
        print(
            f"cohort: {summary.trainees} trainees x {summary.exercises} exercises,"
            f" {summary.submissions} submissions, {summary.cells} graded cells"
            f" (built in {time.perf_counter() - started:.0f} s)"
        )

        client = app.test_client()
        baseline = median_seconds(client, "/login", args.runs)
        client.post("/login", data={"email": "recruiter@bench.example", "password": PASSWORD})
        pages = (
            "/recruiter/",
            "/recruiter/roles/data-engineer/candidates",
            "/recruiter/roles/data-engineer/candidates?skill=sql-joins&sort=skill",
            "/recruiter/roles/data-engineer/candidates.csv",
        )
        queries: list[str] = []
        event.listen(db.engine_for(app), "before_cursor_execute", lambda *a: queries.append(a[2]))
        print(
            f"{'page':<66} {'cold':>9} {'x login':>8} {'cached':>9} {'x login':>8} {'queries':>8}"
        )
        print(f"{'/login (baseline)':<66} {baseline * 1000:7.1f}ms {1.0:8.1f}")
        for page in pages:
            role_readiness.cache.clear()
            queries.clear()
            client.get(page)
            count = len(queries)
            cold = median_seconds(client, page, args.runs, role_readiness.cache.clear)
            warm = median_seconds(client, page, args.runs)
            print(
                f"{page:<66} {cold * 1000:7.1f}ms {cold / baseline:8.1f}"
                f" {warm * 1000:7.1f}ms {warm / baseline:8.1f} {count:8d}"
            )
        db.engine_for(app).dispose()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
