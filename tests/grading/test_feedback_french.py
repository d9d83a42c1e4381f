"""The feedback page of a French notebook is in French; an English notebook's is unchanged."""

from __future__ import annotations

import html
import re

from fixtures_core import HIDDEN_MARKER, exercise_source, job, submission

from grading import grade
from grading.wording import LABELS, french_note

# English words of the page's own text (not the trainee's): none may be left in French
ENGLISH = ("the", "your", "Score:", "Feedback", "passed", "failed", "What we noticed")


def _french(nb) -> None:
    nb["metadata"]["atlas"] = {"language": "fr"}


def _page(data: bytes, timeout: float = 30.0) -> str:
    result = grade(job(data, timeout=timeout))
    assert result.status == "graded", result.error
    return result.feedback_html


def _own_text(page: str) -> str:
    """The page's words besides the trainee's cells and outputs and the CSS: what it says."""
    page = re.sub(r"<style>.*?</style>", "", page, flags=re.S)
    page = re.sub(r"<pre[^>]*>.*?</pre>", "", page, flags=re.S)
    page = re.sub(r'<div class="markdown">.*?</div>', "", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _english_left(text: str) -> list[str]:
    return [w for w in ENGLISH if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text, re.I)]


def test_both_languages_have_every_label() -> None:
    assert LABELS["fr"].keys() == LABELS["en"].keys()


def test_french_notebook_gets_a_french_page_that_still_hides_hidden_tests() -> None:
    # a failing hidden test (its traceback would quote the hidden line), a timeout, a manual answer
    def edit(nb):
        _french(nb)
        nb["cells"].append(
            {
                "cell_type": "code",
                "execution_count": None,
                "id": "extra0001",
                "metadata": {},
                "outputs": [],
                "source": "while True:\n    pass",
            }
        )

    page = _page(submission("    return abs(a) + abs(b)", "Parce que.", edit), timeout=2)

    assert '<html lang="fr">' in page
    assert "<title>Retour : submission</title>" in page
    assert "Note : <strong>" in page
    assert "Ce que nous avons remarqué" in page and "échoué" in page
    assert (
        "à noter par votre formateur" in page and "Cette cellule a aussi des tests cachés" in page
    )
    # the timeout note, in French
    assert "La cellule 7 : elle a dépassé sa limite de temps" in page
    assert "ran longer than the time limit" not in page
    assert _english_left(_own_text(page)) == [], _own_text(page)
    assert HIDDEN_MARKER not in page and "BEGIN HIDDEN TESTS" not in page
    assert "add fails on negatives" not in page


def test_a_deleted_test_cell_is_said_in_french() -> None:
    def edit(nb):
        _french(nb)
        nb["cells"] = [
            c
            for c in nb["cells"]
            if c["metadata"].get("nbgrader", {}).get("grade_id") != "test_data"
        ]

    page = _page(submission(edit=edit))
    assert "La cellule « test_data » a été supprimée du notebook et vaut 0." in page
    assert 'badge deleted">supprimée</span>' in page
    assert _english_left(_own_text(page)) == [], _own_text(page)


def test_english_notebook_page_is_unchanged() -> None:
    page = _page(submission())
    assert '<html lang="en">' in page and "<title>Feedback: submission</title>" in page
    assert "Score: <strong>3</strong> / 6" in page
    assert "<th>Cell</th><th>What</th><th>Result</th>" in page
    assert "to be graded by your instructor" in page and "Retour" not in page
    assert HIDDEN_MARKER not in page


def test_another_language_is_english() -> None:
    page = _page(submission(edit=lambda nb: nb["metadata"].update(atlas={"language": "de"})))
    assert '<html lang="en">' in page and "Feedback: submission" in page


def test_french_notes_by_kind_and_english_for_an_unknown_kind() -> None:
    assert french_note("timeout:notebook", "x").startswith("Le notebook n'a pas pu aller au bout")
    assert french_note("memory:test_add", "x").startswith("La cellule « test_add » : elle a")
    assert french_note("deleted:add", "x", {"add"}) == (
        "La cellule « add » a été supprimée du notebook et vaut 0."
    )
    assert french_note("something-new:cell-2", "An English note.") == "An English note."


def test_exercise_source_has_no_language() -> None:
    assert '"atlas"' not in exercise_source()
