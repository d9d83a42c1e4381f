"""The feedback page's fixed words in English and French, and the French sentence for each flag.

The feedback page is rendered by the grader, which has no Flask request and must not import the
web application (pyproject's import-linter contracts), so it cannot use Flask-Babel and the web's
catalogue. Its words are few and fixed: they live here as a plain {language: text} table, which
tests check for completeness. The page's language is the notebook's own
(`metadata.atlas.language`, "fr" for a French release; lms/content/translations.py writes it).

The notes of the page ("What we noticed") are recorded as English sentences beside each flag
(Findings.add); in French each is said again from its flag's kind (the part before ':'), with the
meaning the web's result panel gives it (lms/web/result_panel.py). A kind this table does not know
keeps its English sentence: a note is never dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

LANGUAGES = ("en", "fr")

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "heading": "Feedback:",
        "score": "Score:",
        "manual_pending": "some answers are still to be graded by your instructor",
        "col_cell": "Cell",
        "col_what": "What",
        "col_result": "Result",
        "col_points": "Points",
        "noticed": "What we noticed",
        "hidden_note": (
            "This cell also has hidden tests: its output is from your notebook run with the "
            "visible tests only, its points from all the tests."
        ),
        "cell": "Cell",
        "image": "output image",
        "more_output": "... further output not shown ...",
        "truncated": "... output truncated ({n} more characters) ...",
        "passed": "passed",
        "partial": "partly passed",
        "failed": "failed",
        "deleted": "deleted",
        "task": "graded by your instructor",
        "manual": "to be graded by your instructor",
        "graded": "graded",
        "no_answer": "no answer",
        "kind:test": "test",
        "kind:manual": "manual",
        "kind:task": "task",
    },
    "fr": {
        "heading": "Retour :",
        "score": "Note :",
        "manual_pending": "certaines réponses doivent encore être notées par votre formateur",
        "col_cell": "Cellule",
        "col_what": "Type",
        "col_result": "Résultat",
        "col_points": "Points",
        "noticed": "Ce que nous avons remarqué",
        "hidden_note": (
            "Cette cellule a aussi des tests cachés : sa sortie vient de l'exécution de votre "
            "notebook avec les seuls tests visibles, ses points de tous les tests."
        ),
        "cell": "Cellule",
        "image": "image produite",
        "more_output": "... la suite de la sortie n'est pas montrée ...",
        "truncated": "... sortie coupée ({n} caractères de plus) ...",
        "passed": "réussi",
        "partial": "en partie réussi",
        "failed": "échoué",
        "deleted": "supprimée",
        "task": "noté par votre formateur",
        "manual": "à noter par votre formateur",
        "graded": "noté",
        "no_answer": "pas de réponse",
        "kind:test": "test",
        "kind:manual": "réponse rédigée",
        "kind:task": "tâche",
    },
}

# what stopped a cell (execution kinds): a phrase after "Cellule « x » :" or "Le notebook ... :"
_FR_REASONS = {
    "timeout": (
        "elle a dépassé sa limite de temps et a été arrêtée (cherchez une boucle qui ne finit "
        "jamais ou une étape très lente)"
    ),
    "budget": (
        "le notebook a épuisé son temps d'exécution total : les cellules suivantes n'ont pas été "
        "exécutées et valent 0"
    ),
    "memory": (
        "elle a utilisé plus de mémoire que permis et a été arrêtée (travaillez sur des données "
        "plus petites ou évitez de construire de très gros objets)"
    ),
    "output-limit": "elle a affiché plus de sortie que permis : la suite a été coupée",
    "died": (
        "le processus Python qui exécutait votre notebook s'est arrêté (un plantage ou un "
        "exit()) : les cellules suivantes n'ont pas été exécutées"
    ),
    "cpu-time": "elle a utilisé plus de temps processeur que permis et a été arrêtée",
    "file-size": "elle a tenté d'écrire un fichier plus gros que permis",
    "processes": "elle a lancé plus de processus que permis",
    "sandbox": (
        "le bac à sable de correction a échoué : soumettez à nouveau, et prévenez votre "
        "formateur si cela se reproduit"
    ),
    "forged": (
        "elle a écrit sur le canal de rapport du correcteur : l'exécution a été arrêtée là et "
        "les cellules non rapportées valent 0"
    ),
}

# the other kinds: a whole sentence; {cell} names the cell ("la cellule « add »")
_FR_SENTENCES = {
    "tampered": (
        "{Cell} de l'exercice avait été modifiée : la version de l'exercice a été utilisée."
    ),
    "deleted": "{Cell} a été supprimée du notebook.",
    "deleted-graded": "{Cell} a été supprimée du notebook et vaut 0.",
    "duplicate": "{Cell} apparaît plusieurs fois : seule la dernière copie a été notée.",
    "unknown-cell": (
        "Une cellule se dit la cellule nbgrader « {label} », que cet exercice n'a pas : elle a "
        "été traitée comme une cellule ordinaire."
    ),
    "invalid-metadata": ("{Cell} avait des métadonnées nbgrader abîmées : elles ont été ignorées."),
    "invalid-result": "{Cell} a produit un résultat qui n'est pas une note valide : elle vaut 0.",
    "introspection": "Du code a inspecté le test en cours de {cell} : il vaut 0.",
    "tampered-runtime": (
        "Votre code a remplacé quelque chose dont les tests dépendent ({label}) : les tests "
        "exécutés ensuite valent 0."
    ),
    "protocol-violation": (
        "Quelque chose dans le notebook a écrit sur le canal de rapport du correcteur : "
        "l'exécution a été arrêtée là et les cellules non rapportées valent 0."
    ),
}


def notebook_language(nb: Any) -> str:
    """The language a notebook was released in (`metadata.atlas.language`): "en" or "fr";
    anything else (missing, damaged, another language) is "en"."""
    metadata = nb.get("metadata") if isinstance(nb, dict) else None
    atlas = metadata.get("atlas") if isinstance(metadata, dict) else None
    value = atlas.get("language") if isinstance(atlas, dict) else None
    return value if value in LANGUAGES else "en"


def _cell_fr(label: str) -> str:
    if label.startswith("cell-") and label[5:].isdigit():
        return f"la cellule {label[5:]}"
    return f"la cellule « {label} »"


def french_note(flag: str, note: str, graded_ids: Iterable[str] = ()) -> str:
    """The French sentence for `flag`, whose English sentence is `note` (kept for a kind this
    module does not know)."""
    kind, _sep, label = flag.partition(":")
    if kind in _FR_REASONS:
        if label == "notebook":
            return f"Le notebook n'a pas pu aller au bout : {_FR_REASONS[kind]}."
        name = _cell_fr(label)
        return f"{name[:1].upper()}{name[1:]} : {_FR_REASONS[kind]}."
    if kind == "deleted" and label in set(graded_ids):
        kind = "deleted-graded"
    sentence = _FR_SENTENCES.get(kind)
    if sentence is None:
        return note
    name = _cell_fr(label)
    return sentence.format(cell=name, Cell=name[:1].upper() + name[1:], label=label)


def localized_notes(
    entries: Iterable[tuple[str, str]], language: str, graded_ids: Iterable[str] = ()
) -> list[str]:
    """The notes of (flag, English note) `entries` in `language`, each sentence once."""
    graded = frozenset(graded_ids)
    notes: list[str] = []
    for flag, note in entries:
        text = note if language != "fr" else french_note(flag, note, graded)
        if text not in notes:
            notes.append(text)
    return notes
