"""Assessment variant pools: each trainee gets one variant, always the same, is served it and is
graded against it, so a notebook copied from a trainee with another variant fails the copier's
variant; `lms check-content` grades every variant in both languages."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from lms.content.check import check_exercises
from lms.content.loader import load_content
from lms.content.model import ContentError
from lms.models import Exercise, Submission, User, UserRole, VariantAssignment
from lms.services import variants
from lms.services.content_import import import_content
from tests.conftest import FIXTURE_CONTENT

FACTORS = {"scaled.ipynb": 2, "scaled_b.ipynb": 3, "scaled_c.ipynb": 5}


def _cell(cell_id: str, cell_type: str, source: str, **nbgrader) -> dict:
    cell = {
        "cell_type": cell_type,
        "id": cell_id,
        "metadata": {"nbgrader": {"schema_version": 3, "locked": True, "solution": False}},
        "source": source,
    }
    cell["metadata"]["nbgrader"].update({"grade": False, **nbgrader})
    if cell_type == "code":
        cell.update(outputs=[], execution_count=None)
    return cell


def _notebook(factor: int) -> str:
    cells = [
        _cell(
            "intro",
            "markdown",
            f"# Scaled\n\nWrite `scaled(xs)`: every item times {factor}.",
            grade_id="intro",
        ),
        _cell(
            "answer",
            "code",
            f"def scaled(xs):\n    ### BEGIN SOLUTION\n    return [x * {factor} for x in xs]\n"
            "    ### END SOLUTION",
            grade_id="scaled",
            solution=True,
            locked=False,
        ),
        _cell(
            "test",
            "code",
            f"assert scaled([]) == []\n### BEGIN HIDDEN TESTS\n"
            f"assert scaled([1, 2]) == [{factor}, {2 * factor}]\n### END HIDDEN TESTS",
            grade_id="test_scaled",
            grade=True,
            points=2,
        ),
    ]
    notebook = {
        "cells": cells,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(notebook, indent=1)


def _pool_content(root: Path, names: dict[str, int] = FACTORS, french: bool = True) -> Path:
    """The fixture content with an assessment `scaled` whose pool is `names` (notebook -> the
    factor its statement asks for)."""
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(FIXTURE_CONTENT, root)
    folder = root / "exercises/scaled"
    folder.mkdir()
    first, *others = names
    for name, factor in names.items():
        (folder / name).write_text(_notebook(factor), encoding="utf-8")
        if french:
            (folder / name.replace(".ipynb", ".fr.yml")).write_text(
                f'"intro": |\n  # Multiplier\n\n'
                f"  Écrivez `scaled(xs)` : chaque élément fois {factor}.\n",
                encoding="utf-8",
            )
    (folder / "exercise.yml").write_text(
        "title: Scaled\nkind: assessment\n"
        f"notebook: {first}\nvariants: [{', '.join(others)}]\ntimeout: 10\n"
        "skills:\n  test_scaled: [python-basics]\n",
        encoding="utf-8",
    )
    return root


@pytest.fixture
def pool(app, session, tmp_path):
    """The content with the `scaled` pool imported."""
    root = _pool_content(tmp_path / "content")
    import_content(session, root)
    return root


def _trainees(session, password_hash, count: int) -> list[User]:
    people = [
        User(email=f"t{i}@example.org", role=UserRole.TRAINEE, password_hash=password_hash)
        for i in range(count)
    ]
    session.add_all(people)
    session.commit()
    return people


def _right(factor: int) -> str:
    return f"def scaled(xs):\n    return [x * {factor} for x in xs]"


def _submit_browser(client, auth, answer: str):
    page = client.get("/exercises/scaled").get_data(as_text=True)
    token = page.split('name="token" value="')[1].split('"')[0]
    return client.post(
        "/exercises/scaled/submissions",
        data={
            "csrf_token": auth.csrf_token_from(page),
            "token": token,
            "origin": "browser",
            "action": "submit",
            "answer-scaled": answer,
        },
        headers={"Accept": "application/json"},
    )


def _upload(client, auth, raw: bytes):
    page = client.get("/exercises/scaled").get_data(as_text=True)
    token = page.split('name="token" value="')[2].split('"')[0]
    return client.post(
        "/exercises/scaled/submissions",
        data={
            "csrf_token": auth.csrf_token_from(page),
            "token": token,
            "origin": "upload",
            "action": "submit",
            "notebook": (io.BytesIO(raw), "mine.ipynb"),
        },
        content_type="multipart/form-data",
        headers={"Accept": "application/json"},
    )


def test_the_hash_spreads_trainees_over_the_whole_pool_and_never_moves_one() -> None:
    keys = list(FACTORS)
    picks = [variants.pick(user_id, "scaled", keys) for user_id in range(1, 61)]
    assert set(picks) == set(keys)
    assert min(picks.count(k) for k in keys) >= 10  # spread, not all on one variant
    assert picks == [variants.pick(user_id, "scaled", keys) for user_id in range(1, 61)]
    # Another exercise shuffles the trainees differently.
    assert picks != [variants.pick(user_id, "other", keys) for user_id in range(1, 61)]


def test_every_variant_is_handed_out_and_each_trainee_keeps_theirs(
    pool, session, password_hash
) -> None:
    people = _trainees(session, password_hash, 24)
    exercise = session.query(Exercise).filter_by(slug="scaled").one()
    given = {p.id: variants.assigned(session, p.id, exercise).key for p in people}
    assert set(given.values()) == set(FACTORS)
    assert session.query(VariantAssignment).count() == len(people)
    # Asked again, and after a fourth variant joins the pool: nobody moves.
    assert {p.id: variants.assigned(session, p.id, exercise).key for p in people} == given
    import_content(session, _pool_content(pool, dict(FACTORS, **{"scaled_d.ipynb": 7})))
    assert {p.id: variants.assigned(session, p.id, exercise).key for p in people} == given


def test_a_copied_notebook_fails_the_copiers_variant(
    pool, client, auth, session, password_hash, run_jobs
) -> None:
    people = _trainees(session, password_hash, 6)
    exercise = session.query(Exercise).filter_by(slug="scaled").one()
    keys = list(FACTORS)
    by_variant: dict[str, User] = {}
    for person in people:
        by_variant.setdefault(variants.pick(person.id, "scaled", keys), person)
    (key_a, alice), (key_b, bob) = list(by_variant.items())[:2]
    session.commit()  # end the read (SQLite: an open transaction holds the lock)

    # Each page and download is the trainee's own variant.
    auth.login(alice.email)
    assert f"times {FACTORS[key_a]}." in client.get("/exercises/scaled").get_data(as_text=True)
    assert _submit_browser(client, auth, _right(FACTORS[key_a])).status_code == 202
    assert run_jobs() == 1
    alices = session.query(Submission).filter_by(user_id=alice.id).one()
    assert (alices.score, alices.max_score) == (2.0, 2.0)
    from lms.services.blobs import get_blob

    copied = get_blob(session, alices.notebook_sha256)
    session.commit()
    auth.logout()

    auth.login(bob.email)
    download = json.loads(client.get("/exercises/scaled/notebook").data)
    assert f"times {FACTORS[key_b]}." in "".join(download["cells"][0]["source"])
    response = _upload(client, auth, copied)
    assert response.status_code == 202, response.get_data(as_text=True)
    assert run_jobs() == 1
    bobs = session.query(Submission).filter_by(user_id=bob.id).one()
    # Graded against Bob's variant: its hidden test fails, and the statement Alice's notebook
    # carries is not the one Bob was given, which the grader reports as a changed locked cell.
    assert not bobs.rejected and (bobs.score, bobs.max_score) == (0.0, 2.0)
    assert "tampered:intro" in bobs.flags
    # Bob's own right answer gets full marks: the variant, not the grading, differs.
    session.commit()
    assert _submit_browser(client, auth, _right(FACTORS[key_b])).status_code == 202
    assert run_jobs() == 1
    latest = session.query(Submission).filter_by(user_id=bob.id).order_by(Submission.id).all()
    assert (latest[-1].score, latest[-1].max_score) == (2.0, 2.0)
    assert variants.stored(session, bob.id, exercise).key == key_b


def test_a_french_trainee_gets_the_french_text_of_their_variant(
    pool, client, auth, session, password_hash, run_jobs
) -> None:
    (person,) = _trainees(session, password_hash, 1)
    key = variants.pick(person.id, "scaled", list(FACTORS))
    session.commit()
    auth.login(person.email)
    client.post("/language", data={"locale": "fr", "csrf_token": auth.token("/learn")})
    page = client.get("/exercises/scaled").get_data(as_text=True)
    assert f"fois {FACTORS[key]}." in page
    assert _submit_browser(client, auth, _right(FACTORS[key])).status_code == 202
    assert run_jobs() == 1
    graded = session.query(Submission).one()
    assert (graded.score, graded.flags) == (2.0, [])


def test_check_content_grades_every_variant_in_both_languages(tmp_path) -> None:
    bundle = load_content(_pool_content(tmp_path / "content"))
    (check,) = check_exercises([bundle.exercises["scaled"]])
    assert check.ok, check.problems
    assert check.variants == 3
    assert check.copied_scores == [0.0, 0.0, 0.0]  # another variant's solution fails each

    # Two variants that differ only in words: a copy would pass, and the check says so.
    same = _pool_content(tmp_path / "same", {"scaled.ipynb": 2, "scaled_b.ipynb": 2})
    (check,) = check_exercises([load_content(same).exercises["scaled"]])
    messages = [str(p) for p in check.problems]
    assert any("the solution of variant scaled_b.ipynb gets full marks" in m for m in messages)

    # A variant whose solution is wrong is named.
    root = _pool_content(tmp_path / "broken")
    path = root / "exercises/scaled/scaled_c.ipynb"
    path.write_text(path.read_text().replace("return [x * 5", "return [x * 4"))
    (check,) = check_exercises([load_content(root).exercises["scaled"]])
    messages = [str(p) for p in check.problems]
    assert any("(variant scaled_c.ipynb) the solution scores 0/2" in m for m in messages), messages
    assert any("(variant scaled_c.ipynb) (French notebook)" in m for m in messages), messages
    assert not any("scaled_b" in m or "variant scaled.ipynb" in m for m in messages), messages


def _problems(root: Path) -> list[str]:
    with pytest.raises(ContentError) as caught:
        load_content(root)
    return [str(p) for p in caught.value.problems]


def test_a_variant_must_have_the_same_grade_cells_and_languages(tmp_path) -> None:
    root = _pool_content(tmp_path / "points")
    path = root / "exercises/scaled/scaled_b.ipynb"
    path.write_text(path.read_text().replace('"points": 2', '"points": 3'))
    assert any("must have the grade cells of 'scaled.ipynb'" in p for p in _problems(root))

    root = _pool_content(tmp_path / "french")
    (root / "exercises/scaled/scaled_c.fr.yml").unlink()
    assert any("must be in the same languages" in p for p in _problems(root))

    root = _pool_content(tmp_path / "practice")
    yml = root / "exercises/scaled/exercise.yml"
    yml.write_text(yml.read_text().replace("kind: assessment", "kind: practice"))
    assert any("'variants' is for assessments only" in p for p in _problems(root))


def test_two_untouched_releases_of_a_variant_are_not_copies(
    pool, client, auth, session, password_hash, run_jobs
) -> None:
    people = _trainees(session, password_hash, 6)
    groups: dict[str, list[User]] = {}
    for person in people:
        groups.setdefault(variants.pick(person.id, "scaled", list(FACTORS)), []).append(person)
    pair = next(group for group in groups.values() if len(group) >= 2)[:2]
    emails = [person.email for person in pair]
    session.commit()
    for email in emails:
        auth.login(email)
        release = client.get("/exercises/scaled/notebook").data
        assert _upload(client, auth, release).status_code == 202
        auth.logout()
    assert run_jobs() == 2
    from lms.services.evidence_integrity import fingerprint_new_submissions

    fingerprint_new_submissions(session)
    flags = [s.flags for s in session.query(Submission).order_by(Submission.id)]
    assert all(not any(x.startswith("copy") for x in f) for f in flags), flags
