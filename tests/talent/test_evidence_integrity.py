"""Evidence counts once in the database: re-sent notebooks, copies across trainees, flags and
their clearance by staff, and what the recruiter and `lms readiness --json` show of them."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from lms.errors import Forbidden
from lms.models import (
    Blob,
    CellGrade,
    Exercise,
    GradingJob,
    JobStatus,
    Submission,
    SubmissionPurpose,
    User,
    utcnow,
)
from lms.services import evidence_integrity, role_readiness, talent
from lms.services.blobs import put_blob


def notebook(answer: str, output: str = "") -> bytes:
    """A notebook whose answer cell holds `answer` (and an output, which is not the work)."""
    return json.dumps(
        {
            "nbformat": 4,
            "nbformat_minor": 5,
            "metadata": {"run": output},
            "cells": [
                {
                    "cell_type": "code",
                    "source": answer,
                    "metadata": {},
                    "outputs": [{"output_type": "stream", "text": output}],
                    "execution_count": 1,
                }
            ],
        }
    ).encode()


def graded(
    session,
    user_id: int,
    data: bytes,
    score: float = 2.0,
    days_ago: float = 1.0,
    flags: list[str] | None = None,
    slug: str = "squares",
) -> int:
    exercise = session.scalar(select(Exercise).where(Exercise.slug == slug))
    at = utcnow() - timedelta(days=days_ago)
    submission = Submission(
        user_id=user_id,
        exercise_id=exercise.id,
        purpose=SubmissionPurpose.GRADE,
        origin="upload",
        idempotency_token=f"{user_id}-{days_ago}-{score}-{len(data)}",
        notebook_sha256=put_blob(session, data),
        notebook_name="s.ipynb",
        created_at=at,
        graded_at=at,
        flags=flags or [],
        cells=[
            CellGrade(
                grade_id="test_squares",
                kind="test",
                score=score,
                max_score=2.0,
                needs_manual_grade=False,
            )
        ],
    )
    # A submission's status is its grading job's: done and not rejected is graded.
    session.add_all([submission, GradingJob(submission=submission, status=JobStatus.DONE)])
    session.commit()
    return submission.id


def weights(session, user_id: int) -> dict[object, float]:
    """Submission id -> the weight its python-basics cell got."""
    found = role_readiness.trainee_readiness(session, user_id)["junior-dev"]
    line = next(line for line in found.skills if line.skill == "python-basics")
    return {ev.submission_id: weight for ev, weight in line.weighted_evidence()}


@pytest.fixture
def cli_runner(app, monkeypatch):
    """Run `lms ...` against the test app's database and parse its JSON output."""
    from click.testing import CliRunner

    from lms.cli import main

    monkeypatch.setenv("LMS_DATABASE_URL", app.config["DATABASE_URL"])
    monkeypatch.setenv("LMS_SECRET_KEY", "cli-test")

    def run(*args: str) -> list[dict]:
        result = CliRunner().invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    return run


def ids(session) -> dict[str, int]:
    return dict(session.execute(select(User.email, User.id)).all())


def test_a_re_sent_notebook_counts_once(session, users, content) -> None:
    trainee = ids(session)[users.trainee]
    first = graded(session, trainee, notebook("x = 1"), days_ago=2)
    # The same work, re-run (other output) and re-spaced: the same evidence.
    again = graded(session, trainee, notebook("x  =  1\n\n", output="1"), days_ago=1)
    found = weights(session, trainee)
    assert found[first] > 0 and found[again] == 0
    different = graded(session, trainee, notebook("x = 2"), days_ago=0.5)
    assert 0 < weights(session, trainee)[different] < found[first]  # a further attempt


def test_a_neighbours_notebook_is_flagged_on_both_sides_and_counts_for_neither(
    session, users, content, cli_runner
) -> None:
    people = ids(session)
    own = graded(session, people[users.trainee], notebook("total = sum(x * x for x in xs)"))
    copied = graded(
        session,
        people[users.other_trainee],
        notebook("total = sum(x * x for x in xs)", output="42"),
    )
    assert weights(session, people[users.trainee])[own] == 0
    assert weights(session, people[users.other_trainee])[copied] == 0
    assert f"copy:{copied}:1.00" in session.get(Submission, own).flags
    assert f"copy:{own}:1.00" in session.get(Submission, copied).flags
    flags = evidence_integrity.flags_by_trainee(session)[people[users.trainee]]
    assert [(f.kind, f.cleared) for f in flags] == [("copy", False)]
    session.rollback()  # SQLite: an open read would hold the lock the command needs
    rows = cli_runner("readiness", "--role", "junior-dev", "--json")
    by_email = {row["email"]: row for row in rows}
    assert by_email[users.trainee]["flags"]["copy"][0]["submission_id"] == own


RUNNING_TOTALS = """def running_totals(values):
    totals = []
    current = 0
    for value in values:
        if value is None:
            continue
        current = current + value
        totals.append(current)
    return totals
"""
# The same code disguised: names changed, comments and blank lines added, spacing changed.
DISGUISED = """def running_totals(values):
    # keep a running sum
    out = []

    acc = 0
    for v in values:
        if v is None:   # skip the gaps
            continue
        acc = acc  +  v
        out.append(acc)
    return out
"""
# An honest solution of the same exercise, written another way.
HONEST = """def running_totals(values):
    result = [0] * len(values)
    total = 0
    i = 0
    while i < len(values):
        if values[i] is not None:
            total += values[i]
        result[i] = total
        i += 1
    return [r for r, v in zip(result, values) if v is not None]
"""


def test_a_disguised_copy_is_flagged_with_its_similarity(session, users, content) -> None:
    people = ids(session)
    own = graded(session, people[users.trainee], notebook(RUNNING_TOTALS))
    copied = graded(session, people[users.other_trainee], notebook(DISGUISED))
    assert weights(session, people[users.trainee])[own] == 0
    assert weights(session, people[users.other_trainee])[copied] == 0
    (mine,) = session.get(Submission, own).flags
    (theirs,) = session.get(Submission, copied).flags
    assert mine.startswith(f"copy:{copied}:") and theirs.startswith(f"copy:{own}:")
    assert float(mine.rsplit(":", 1)[1]) >= 0.8  # the same tokens, under other names


def test_two_honest_similar_solutions_are_not_flagged(session, users, content) -> None:
    people = ids(session)
    own = graded(session, people[users.trainee], notebook(RUNNING_TOTALS))
    other = graded(session, people[users.other_trainee], notebook(HONEST))
    assert weights(session, people[users.trainee])[own] > 0
    assert weights(session, people[users.other_trainee])[other] > 0
    assert not session.get(Submission, own).flags and not session.get(Submission, other).flags


def test_staff_clear_a_flag_and_the_work_then_counts(session, users, content) -> None:
    people = ids(session)
    sid = graded(session, people[users.trainee], notebook("a = 1"), flags=["tampered:test_a"])
    assert weights(session, people[users.trainee])[sid] == 0
    with pytest.raises(Forbidden):
        evidence_integrity.clear_flags(session, sid, people[users.recruiter])
    evidence_integrity.clear_flags(session, sid, people[users.instructor], "checked with them")
    assert weights(session, people[users.trainee])[sid] > 0
    flags = evidence_integrity.flags_by_trainee(session)[people[users.trainee]]
    assert [(f.kind, f.cleared) for f in flags] == [("integrity", True)]


def test_the_untouched_release_is_nobodys_copy(session, users, content) -> None:
    people = ids(session)
    release = session.scalar(
        select(Blob.data)
        .join(Exercise, Exercise.release_sha256 == Blob.sha256)
        .where(Exercise.slug == "squares")
    )
    first = graded(session, people[users.trainee], release, score=0.0)
    second = graded(session, people[users.other_trainee], release, score=0.0)
    evidence_integrity.fingerprint_new_submissions(session)
    assert not session.get(Submission, first).flags and not session.get(Submission, second).flags


def test_recruiter_sees_the_flags_on_the_report(client, auth, session, users, content) -> None:
    people = ids(session)
    graded(session, people[users.trainee], notebook("y = 3"), flags=["introspection:cell-2"])
    talent.set_sharing(session, people[users.trainee], True)
    auth.login(users.recruiter)
    html = client.get(f"/recruiter/candidates/{people[users.trainee]}").get_data(as_text=True)
    assert 'id="flags"' in html and "introspection:cell-2" in html and "awaiting review" in html


def test_clear_flags_from_the_command_line(session, users, content, app, monkeypatch) -> None:
    from click.testing import CliRunner

    from lms.cli import main

    monkeypatch.setenv("LMS_DATABASE_URL", app.config["DATABASE_URL"])
    monkeypatch.setenv("LMS_SECRET_KEY", "cli-test")
    sid = graded(
        session, ids(session)[users.trainee], notebook("b = 2"), flags=["protocol-violation:cell-1"]
    )
    session.rollback()
    refused = CliRunner().invoke(main, ["clear-flags", str(sid), "--by", users.recruiter])
    assert refused.exit_code == 1 and "Only an instructor or an admin" in refused.output
    done = CliRunner().invoke(
        main, ["clear-flags", str(sid), "--by", users.instructor, "--note", "asked them"]
    )
    assert done.exit_code == 0, done.output
    assert weights(session, ids(session)[users.trainee])[sid] > 0


def test_an_assessment_retake_counts_only_after_the_catalogues_cool_down(
    session, users, content
) -> None:
    trainee = ids(session)[users.trainee]
    check = session.scalar(select(Exercise).where(Exercise.slug == "squares-check"))
    assert check.retake_after_days == 14  # from the exercise's exercise.yml
    first = graded(session, trainee, notebook("a = 1"), 1.0, days_ago=30, slug="squares-check")
    early = graded(session, trainee, notebook("a = 2"), 2.0, days_ago=25, slug="squares-check")
    later = graded(session, trainee, notebook("a = 3"), 2.0, days_ago=10, slug="squares-check")
    found = weights(session, trainee)
    assert found[first] > 0 and found[early] == 0 and found[later] > 0


def test_a_cool_down_on_practice_is_refused_naming_the_file(tmp_path) -> None:
    from lms.content import load_content
    from lms.content.model import ContentError

    source = Path(__file__).parent / "content"
    shutil.copytree(source, tmp_path / "content")
    yml = tmp_path / "content" / "exercises" / "squares" / "exercise.yml"
    yml.write_text(yml.read_text() + "retake_after_days: 3\n")
    with pytest.raises(ContentError) as refused:
        load_content(tmp_path / "content")
    assert "retake_after_days" in str(refused.value) and "exercise.yml" in str(refused.value)
