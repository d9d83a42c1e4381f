"""An exercise in French: the trainee reads, downloads and hands in the French notebook, and it
grades exactly as the English one (the same code and tests, the French locked cells)."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from lms.content.loader import load_content
from lms.content.model import ContentError
from lms.models import Exercise, Submission
from tests.conftest import FIXTURE_CONTENT
from tests.web.test_trainee_loop import RIGHT

UNSOLVED = {
    "squares": "def squares(n):\n    return None",
    "total": "def total(path):\n    return 0",
}


@pytest.fixture
def french_trainee(auth, users, content, client):
    auth.login(users.trainee)
    client.post("/language", data={"locale": "fr", "csrf_token": auth.token("/learn")})
    return auth


def _submit(client, auth, answers: dict[str, str]):
    page = client.get("/exercises/squares").get_data(as_text=True)
    token = page.split('name="token" value="')[1].split('"')[0]
    data = {"csrf_token": auth.csrf_token_from(page), "token": token, "origin": "browser"}
    data.update({f"answer-{k}": v for k, v in answers.items()}, action="submit")
    return client.post(
        "/exercises/squares/submissions", data=data, headers={"Accept": "application/json"}
    )


def _upload(client, auth, raw: bytes):
    page = client.get("/exercises/squares").get_data(as_text=True)
    token = page.split('name="token" value="')[2].split('"')[0]
    return client.post(
        "/exercises/squares/submissions",
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


def test_french_page_and_download_are_the_french_notebook(client, french_trainee) -> None:
    html = client.get("/exercises/squares").get_data(as_text=True)
    assert "Carrés" in html and "Écrivez" in html and "Write <code>" not in html
    notebook = json.loads(client.get("/exercises/squares/notebook").data)
    assert notebook["metadata"]["atlas"]["language"] == "fr"
    assert "HIDDEN-MARKER" not in json.dumps(notebook)
    texts = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "markdown"]
    assert texts == ["# Carrés\n\nÉcrivez `squares(n)`."]


def test_english_page_is_unchanged(client, auth, users, content) -> None:
    auth.login(users.trainee)
    html = client.get("/exercises/squares").get_data(as_text=True)
    assert "Write <code>squares(n)</code>" in html and "Carrés" not in html
    notebook = json.loads(client.get("/exercises/squares/notebook").data)
    assert "language" not in notebook["metadata"].get("atlas", {})


def test_french_notebook_grades_as_the_english_one(
    run_jobs, client, french_trainee, session
) -> None:
    status_url = _submit(client, french_trainee, RIGHT).json["status_url"]
    run_jobs()
    status = client.get(status_url).json
    # Its locked cell is the French one: graded against the French source, nothing is flagged
    # (a trainee's status has no flags: staff read them, here from the stored submission).
    assert status["status"] == "graded" and status["notices"] == []
    assert session.query(Submission).one().flags == []
    assert (status["score"], status["max_score"]) == (3.0, 3.0)


def test_french_trainee_gets_a_french_feedback_page(run_jobs, client, french_trainee) -> None:
    wrong = dict(RIGHT, squares="def squares(n):\n    return [1]")
    status_url = _submit(client, french_trainee, wrong).json["status_url"]
    run_jobs()
    status = client.get(status_url).json
    page = client.get(status["feedback_url"]).get_data(as_text=True)
    assert '<html lang="fr">' in page and "Retour :" in page and "Note : <strong>" in page
    assert "échoué" in page and "réussi" in page
    assert "Feedback:" not in page and "Score:" not in page and "What we noticed" not in page
    assert "HIDDEN-MARKER" not in page


def test_french_release_uploaded_unchanged_is_not_tampering(
    run_jobs, client, french_trainee, session
) -> None:
    release = client.get("/exercises/squares/notebook").data
    response = _upload(client, french_trainee, release)
    assert response.status_code == 202, response.get_data(as_text=True)
    run_jobs()
    status = client.get(response.json["status_url"]).json
    assert status["status"] == "graded" and status["notices"] == [] and status["score"] == 0.0
    assert session.query(Submission).one().flags == []


def test_english_notebook_of_a_french_trainee_still_grades(run_jobs, client, french_trainee):
    """A trainee who switched language after downloading hands in the English notebook."""
    source = (FIXTURE_CONTENT / "exercises/squares/squares.ipynb").read_text()
    response = _upload(client, french_trainee, source.encode())
    run_jobs()
    status = client.get(response.json["status_url"]).json
    assert status["status"] == "graded" and status["score"] == 3.0


def test_claiming_french_on_an_untranslated_exercise_changes_nothing(
    run_jobs, client, french_trainee, session
) -> None:
    """`metadata.atlas.language` is the trainee's to write: it only picks between sources that
    grade alike, and picks the English one when there is no French one."""
    exercise = session.query(Exercise).one()
    exercise.source_fr_sha256 = exercise.release_fr_sha256 = None
    session.commit()
    source = json.loads((FIXTURE_CONTENT / "exercises/squares/squares.ipynb").read_text())
    source.setdefault("metadata", {})["atlas"] = {"language": "fr"}
    response = _upload(client, french_trainee, json.dumps(source).encode())
    run_jobs()
    status = client.get(response.json["status_url"]).json
    assert status["status"] == "graded" and status["score"] == 3.0


def test_two_untouched_french_releases_are_not_copies(
    run_jobs, client, app, auth, users, content, session
) -> None:
    for email in (users.trainee, users.other_trainee):
        auth.login(email)
        client.post("/language", data={"locale": "fr", "csrf_token": auth.token("/learn")})
        assert _submit(client, auth, {}).status_code == 202
        auth.logout()
    assert run_jobs() == 2
    from lms.services.evidence_integrity import fingerprint_new_submissions

    fingerprint_new_submissions(session)
    flags = [s.flags for s in session.query(Submission).order_by(Submission.id)]
    assert all(not any(x.startswith("copy") for x in f) for f in flags), flags


def test_identical_french_answers_are_copies(run_jobs, client, auth, users, content, session):
    for email in (users.trainee, users.other_trainee):
        auth.login(email)
        client.post("/language", data={"locale": "fr", "csrf_token": auth.token("/learn")})
        _submit(client, auth, UNSOLVED)
        auth.logout()
    run_jobs()
    from lms.services.evidence_integrity import fingerprint_new_submissions

    fingerprint_new_submissions(session)
    flags = [s.flags for s in session.query(Submission).order_by(Submission.id)]
    assert all(any(x.startswith("copy:") for x in f) for f in flags), flags


# The translation file, as an author gets it wrong.


def _content_with(tmp_path: Path, text: str) -> Path:
    root = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, root)
    (root / "exercises/squares/squares.fr.yml").write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "must be a YAML mapping"),
        ('"77f047a1": ""\n', "must be a non-empty text"),
        ('"77f047a1": Carrés\n"08efd84d": code\n', "'08efd84d' is not the id of a markdown cell"),
        ("12345678: x\n", "put it in quotes"),
        ('"77f047a1": a\n"77f047a1": b\n', "translated twice"),
        ("other: text\n", "markdown cell '77f047a1' ('# Squares') has no French text"),
    ],
)
def test_bad_translation_is_reported_with_its_line(tmp_path, text, expected) -> None:
    with pytest.raises(ContentError) as caught:
        load_content(_content_with(tmp_path, text))
    messages = [str(p) for p in caught.value.problems]
    assert any(
        p.startswith("exercises/squares/squares.fr.yml") and expected in p for p in messages
    ), messages


def test_french_source_keeps_every_code_cell(tmp_path) -> None:
    bundle = load_content(FIXTURE_CONTENT)
    exercise = bundle.exercises["squares"]
    english, french = json.loads(exercise.source_json), json.loads(exercise.source_fr_json)
    assert [c for c in english["cells"] if c["cell_type"] == "code"] == [
        c for c in french["cells"] if c["cell_type"] == "code"
    ]
