"""Pages under a cohort's load: p50/p95 per page against a trivial page, same server, same run.

    .venv/bin/python benchmarks/web_load.py [--users 200] [--seconds 60] [--postgres]

Builds a database of its own (a SQLite file in a temporary folder, or with --postgres a database
`atlas_bench_<pid>` on 127.0.0.1:5432, created here and dropped at the end), migrates it, imports
the repository's content, seeds a synthetic cohort (months of graded history, some reports
shared) and a recruiter, starts `lms serve` on a free loopback port with its defaults
(LMS_SERVE_*), and runs locust headless (benchmarks/locustfile.py) with USERS simultaneous
users for SECONDS: nine in ten are trainees (/learn, a course, /skills/), one a recruiter (the
pipeline and PDF reports), signed in as ACCOUNTS accounts; the statistics start once every
user is running (locust --reset-stats). Prints, per page, requests, failures, p50 and p95 in
ms, and their ratio to the trivial page's (a static file through the same application) under
the same load.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# benchmarks/grading.py must not shadow the grading package: drop this folder from the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO / "benchmarks"]
sys.path.insert(0, str(REPO))
BIN = Path(sys.executable).parent
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


@contextmanager
def database(postgres: bool, folder: Path):
    """A database URL of its own: a SQLite file, or a PostgreSQL database dropped afterwards."""
    if not postgres:
        yield f"sqlite:///{folder / 'load.sqlite'}"
        return
    import psycopg

    name = f"atlas_bench_{os.getpid()}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepare(url: str, trainees: int, accounts: int) -> dict:
    """Migrate, import the content, seed a cohort and a recruiter; what the locust users need."""
    from sqlalchemy import select, update

    from lms import create_app
    from lms.extensions import db
    from lms.migrations import upgrade
    from lms.models import Course, User, UserRole
    from lms.services.accounts import create_user, hash_password
    from lms.services.content_import import import_content
    from lms.services.seed import seed_cohort
    from lms.services.talent import shared_trainee_ids

    upgrade(url)
    app = create_app({"DATABASE_URL": url})
    with db.sessionmaker_for(app)() as session:
        import_content(session, REPO)
        summary = seed_cohort(session, trainees, 3, 0)
        # Seeded trainees have no password: the accounts used here get one, the recruiter
        # too (one hash for all: sign-in is not what is measured).
        password = secrets.token_urlsafe(12)
        create_user(session, "recruiter@load.test", "recruiter", password)
        emails = list(
            session.scalars(
                select(User.email).where(User.role == UserRole.TRAINEE).order_by(User.id)
            )
        )[:accounts]
        session.execute(
            update(User).where(User.email.in_(emails)).values(password_hash=hash_password(password))
        )
        session.commit()
        setup = {
            "password": password,
            "trainees": emails,
            "recruiter": "recruiter@load.test",
            "courses": list(session.scalars(select(Course.slug)).all()),
            "shared": sorted(shared_trainee_ids(session))[:50],
        }
    db.engine_for(app).dispose()
    print(
        f"seeded {summary.trainees} trainees, {summary.submissions} graded submissions, "
        f"{len(setup['shared'])} shared reports used by the recruiter"
    )
    return setup


def free_port() -> int:
    """A free loopback TCP port below the ephemeral range (where no client socket can sit)."""
    for _ in range(100):
        port = random.randint(20000, 30000)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    sys.exit("no free port between 20000 and 30000")


@contextmanager
def server(url: str, folder: Path):
    """`lms serve` on a free loopback port; its base URL once it answers."""
    port = free_port()
    env = {
        **os.environ,
        "LMS_DATABASE_URL": url,
        "LMS_INSTANCE_PATH": str(folder / "instance"),
        "LMS_COOKIE_SECURE": "0",
        "LMS_SECRET_KEY": secrets.token_hex(16),
    }
    log = (folder / "serve.log").open("w")
    process = subprocess.Popen(
        [str(BIN / "lms"), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            if process.poll() is not None:
                sys.exit(f"lms serve exited:\n{(folder / 'serve.log').read_text()[-3000:]}")
            try:
                urllib.request.urlopen(f"{base}/static/favicon.svg", timeout=5).close()
                break
            except (OSError, http.client.HTTPException):
                time.sleep(0.2)
        else:
            sys.exit("lms serve did not answer")
        yield base
    finally:
        process.terminate()
        process.wait(60)
        log.close()


def run_locust(base: str, setup: dict, users: int, seconds: int, folder: Path) -> list[dict]:
    """Run locust headless against `base`; its per-page statistics rows."""
    prefix = folder / "locust"
    env = {**os.environ, "ATLAS_LOAD_SETUP": json.dumps(setup)}
    with (folder / "locust.log").open("w") as log:
        subprocess.run(
            [
                str(BIN / "locust"),
                "-f",
                str(REPO / "benchmarks" / "locustfile.py"),
                "--headless",
                "--users",
                str(users),
                "--spawn-rate",
                str(max(1, users // 10)),
                "--run-time",
                f"{seconds}s",
                "--host",
                base,
                "--csv",
                str(prefix),
                "--only-summary",
                "--reset-stats",
                "--loglevel",
                "WARNING",
                "--stop-timeout",
                "30",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,  # locust exits 1 when any request failed: reported below
        )
    if not Path(f"{prefix}_stats.csv").exists():
        sys.exit(f"locust failed:\n{(folder / 'locust.log').read_text()[-3000:]}")
    with open(f"{prefix}_stats.csv", newline="") as handle:
        return [row for row in csv.DictReader(handle) if row["Name"] != "Aggregated"]


def report(rows: list[dict], users: int, database_name: str) -> None:
    """Print p50/p95 per page and the ratios to the trivial page."""
    by_name = {row["Name"]: row for row in rows}
    trivial = by_name["trivial"]
    base50, base95 = float(trivial["50%"]), float(trivial["95%"])
    print(
        f"\n{database_name}, {users} users; load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} CPUs"
    )
    print(
        f"{'page':<42} {'requests':>8} {'failed':>6} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'p50/triv':>8} {'p95/triv':>8}"
    )
    for name in sorted(by_name, key=lambda n: (n != "trivial", n)):
        row = by_name[name]
        p50, p95 = float(row["50%"]), float(row["95%"])
        print(
            f"{name:<42} {row['Request Count']:>8} {row['Failure Count']:>6} {p50:7.0f} "
            f"{p95:7.0f} {p50 / max(base50, 1):8.1f} {p95 / max(base95, 1):8.1f}"
        )


def main() -> None:
    """Prepare, serve, load, report, clean up."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200, help="simultaneous users")
    parser.add_argument("--seconds", type=int, default=60, help="how long the load lasts")
    parser.add_argument("--trainees", type=int, default=200, help="seeded trainee accounts")
    parser.add_argument(
        "--accounts",
        type=int,
        default=20,
        help="trainee accounts the users sign in as (each signs in once)",
    )
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="PostgreSQL at 127.0.0.1:5432 (a database of its own) not SQLite",
    )
    args = parser.parse_args()
    if not (1 <= args.users <= 2000 and 5 <= args.seconds <= 1800):
        sys.exit("--users must be 1..2000 and --seconds 5..1800")
    with tempfile.TemporaryDirectory(prefix="atlas-load-") as tmp:
        folder = Path(tmp)
        os.environ["LMS_INSTANCE_PATH"] = str(folder / "instance")
        with database(args.postgres, folder) as url:
            setup = prepare(url, args.trainees, args.accounts)
            with server(url, folder) as base:
                rows = run_locust(base, setup, args.users, args.seconds, folder)
        report(rows, args.users, "PostgreSQL" if args.postgres else "SQLite")


if __name__ == "__main__":
    main()
