"""Drafts: the answers typed on an exercise page, autosaved, restored on any device."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from grading import cells
from lms.errors import Invalid, TooLarge
from lms.i18n import N_
from lms.models import Draft, Exercise, Submission, utcnow
from lms.services.submissions import latest_answers, release_notebook

# An answer cell holds code a person types: far below this. The whole draft stays well under a
# notebook upload, so a draft can always be submitted.
MAX_ANSWER_CHARS = 100_000
MAX_DRAFT_CHARS = 500_000


@dataclass(frozen=True)
class Answers:
    """What the exercise page shows in its answer cells, and when the draft was saved."""

    answers: dict[str, str]
    saved_at: datetime | None  # None: no draft newer than the latest submission


def answer_ids(session: Session, exercise: Exercise) -> list[str]:
    """The grade ids of the exercise's answer cells, in notebook order."""
    notebook = release_notebook(session, exercise)
    return [cells.grade_id(cell) for cell in notebook.get("cells", []) if cells.is_answer(cell)]


def get_draft(session: Session, user_id: int, exercise_id: int) -> Draft | None:
    """The trainee's draft of this exercise, if any."""
    return session.scalar(
        select(Draft).where(Draft.user_id == user_id, Draft.exercise_id == exercise_id)
    )


def answers_to_edit(session: Session, user_id: int, exercise: Exercise) -> Answers:
    """The draft if it is newer than the trainee's latest notebook, else that notebook's
    answers (empty when there is neither: the page shows the release's stubs)."""
    draft = get_draft(session, user_id, exercise.id)
    submitted_at = session.scalar(
        select(Submission.created_at)
        .where(Submission.user_id == user_id, Submission.exercise_id == exercise.id)
        .order_by(Submission.id.desc())
        .limit(1)
    )
    if draft is not None and (submitted_at is None or draft.saved_at >= submitted_at):
        return Answers(dict(draft.answers), draft.saved_at)
    return Answers(latest_answers(session, user_id, exercise), None)


def save_draft(session: Session, user_id: int, exercise: Exercise, answers: object) -> Draft:
    """Replace the trainee's draft with `answers` (grade id -> source), checked first: a
    refused draft changes nothing stored."""
    if not isinstance(answers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in answers.items()
    ):
        raise Invalid(
            N_('A draft is a JSON object {"answers": {cell id: text}}; reload the page and retry.')
        )
    known = answer_ids(session, exercise)
    unknown = sorted(set(answers) - set(known))
    if unknown:
        raise Invalid(
            N_(
                "This exercise has no answer cell %(cells)s (its cells: %(known)s); "
                "reload the page."
            ),
            cells=", ".join(unknown[:5]),
            known=", ".join(known),
        )
    longest = max(answers, key=lambda k: len(answers[k]), default=None)
    if longest is not None and len(answers[longest]) > MAX_ANSWER_CHARS:
        raise TooLarge(
            N_("The answer %(cell)s is longer than %(n)s characters; shorten it to save it."),
            cell=longest,
            n=MAX_ANSWER_CHARS,
        )
    if sum(len(v) for v in answers.values()) > MAX_DRAFT_CHARS:
        raise TooLarge(
            N_("Your answers are longer than %(n)s characters in all; shorten them to save them."),
            n=MAX_DRAFT_CHARS,
        )
    cleaned = {k: v.replace("\r\n", "\n") for k, v in answers.items()}
    try:
        return _store(session, user_id, exercise.id, cleaned)
    except IntegrityError:
        # The first save of this draft raced in from a second tab: update the one that won.
        session.rollback()
        return _store(session, user_id, exercise.id, cleaned)


def _store(session: Session, user_id: int, exercise_id: int, answers: dict[str, str]) -> Draft:
    draft = get_draft(session, user_id, exercise_id)
    if draft is None:
        draft = Draft(user_id=user_id, exercise_id=exercise_id)
        session.add(draft)
    draft.answers = answers
    draft.saved_at = utcnow()
    session.commit()
    return draft
