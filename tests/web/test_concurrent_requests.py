"""SQLite under a cohort: a long read blocks no one; writers still serialise read-then-write.

Every assertion is about order and outcome (who finished while whom was still running, what a
writer read), never about how long something took.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from flask import Flask, render_template_string
from sqlalchemy import Column, Integer, MetaData, Table, event, func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from lms.database import begin_write, is_writing, make_engine, reader
from lms.extensions import csrf, db
from lms.models import User
from tests.conftest import AuthActions


def _on_sqlite(app: Flask) -> bool:
    return db.engine_for(app).dialect.name == "sqlite"


@pytest.fixture
def slow_export(app: Flask):
    """A GET that reads, then holds its request open until released (a slow recruiter export)."""
    reading, release = threading.Event(), threading.Event()

    @app.get("/test/slow-export")
    def _slow_export() -> str:
        count = db.session.scalar(select(func.count()).select_from(User))
        reading.set()
        release.wait(120)
        # Still inside the same request (and, before the fix, the same write-locked transaction).
        return str(db.session.scalar(select(func.count()).select_from(User)) or count)

    return reading, release


def test_a_long_read_blocks_neither_a_trainee_page_nor_a_grading_write(
    app: Flask, content, users, slow_export
) -> None:
    """While one request sits in a long read, a trainee's page renders and a worker commits."""
    if not _on_sqlite(app):
        pytest.skip("the write lock is SQLite's")
    reading, release = slow_export
    trainee = app.test_client()
    assert AuthActions(trainee).login(users.trainee).status_code == 302
    outcome: dict[str, object] = {}

    def export() -> None:
        outcome["export"] = app.test_client().get("/test/slow-export")

    exporter = threading.Thread(target=export)
    exporter.start()
    try:
        assert reading.wait(120), "the export never started reading"
        page = trainee.get("/learn")
        assert page.status_code == 200, page.get_data(as_text=True)[:300]
        # A grading worker's write (an IMMEDIATE transaction) commits meanwhile too.
        with db.sessionmaker_for(app)() as worker_session:
            worker_session.execute(update(User).values(locale="fr"))
            worker_session.commit()
        assert exporter.is_alive(), "the export finished first: the test proved nothing"
    finally:
        release.set()
        exporter.join(120)
    assert outcome["export"].status_code == 200


def test_a_get_reads_deferred_a_post_writes_and_rendering_holds_no_transaction(
    app: Flask,
) -> None:
    """GET sessions never take the write lock; POST sessions do; templates render outside."""
    seen: dict[str, object] = {}

    @app.route("/test/mode", methods=["GET", "POST"])
    @csrf.exempt
    def _mode() -> str:
        from flask import request

        db.session.scalar(select(func.count()).select_from(User))
        seen[request.method] = is_writing(db.session)
        return render_template_string(
            "{{ in_transaction() }}", in_transaction=db.session.in_transaction
        )

    client = app.test_client()
    get_body = client.get("/test/mode").get_data(as_text=True)
    post_body = client.post("/test/mode").get_data(as_text=True)
    if _on_sqlite(app):
        assert seen == {"GET": False, "POST": True}
    assert get_body == post_body == "False"


@pytest.fixture
def counter(tmp_path: Path):
    """Two engines on one SQLite file holding a one-row counter; the second never waits for a
    lock (busy_timeout 0), so waiting shows up as an error instead of time."""
    url = f"sqlite:///{tmp_path / 'counter.sqlite'}"
    metadata = MetaData()
    table = Table(
        "counter", metadata, Column("id", Integer, primary_key=True), Column("n", Integer)
    )
    patient, impatient = make_engine(url), make_engine(url)

    @event.listens_for(impatient, "connect")
    def _no_waiting(dbapi_connection, _record) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=0")

    metadata.create_all(patient)
    with patient.begin() as connection:
        connection.execute(table.insert().values(id=1, n=0))
    yield table, Session(reader(patient)), Session(reader(impatient))
    patient.dispose()
    impatient.dispose()


def test_begin_write_takes_the_lock_before_reading(counter) -> None:
    """A writer that read first waits for the lock, then reads what the other writer wrote."""
    table, first, second = counter
    value = select(table.c.n)
    begin_write(first)
    assert first.scalar(value) == 0
    assert second.scalar(value) == 0  # readers are not blocked by a writer
    with pytest.raises(OperationalError, match="locked"):
        begin_write(second)  # it would wait here (busy_timeout), not read a stale value
    second.rollback()
    first.execute(update(table).values(n=1))
    first.commit()
    begin_write(second)  # ends its earlier read-only snapshot and takes the lock
    assert second.scalar(value) == 1
    second.execute(update(table).values(n=table.c.n + 1))
    second.commit()
    assert first.scalar(value) == 2
    first.close()
    second.close()


def test_without_begin_write_a_read_then_write_fails_instead_of_losing_an_update(
    counter,
) -> None:
    """The race begin_write exists for: a deferred reader whose snapshot went stale cannot write."""
    table, first, second = counter
    assert second.scalar(select(table.c.n)) == 0  # a deferred read: a snapshot, no lock
    begin_write(first)
    first.execute(update(table).values(n=1))
    first.commit()
    with pytest.raises(OperationalError, match="locked"):
        second.execute(update(table).values(n=1))  # would have lost first's update
    second.rollback()
    first.close()
    second.close()


def test_begin_write_refuses_to_drop_pending_changes(app: Flask, users) -> None:
    """Taking the lock after a change would not protect it: that is a programming error."""
    with Session(reader(db.engine_for(app))) as session:
        user = session.scalar(select(User).where(User.email == users.trainee))
        user.locale = "fr"
        if not _on_sqlite(app):
            return
        with pytest.raises(RuntimeError, match="before the changes"):
            begin_write(session)
