"""Which variant of an assessment's pool a trainee gets: chosen once, kept for good.

An assessment may ship several variants (exercise.yml `variants`): notebooks with the same grade
cells and points but different data or parameters. Each trainee is given one, picked by a keyed
hash of the trainee and the exercise (so the pool is spread evenly over trainees and the same
trainee always lands on the same variant), and the pick is stored the first time the trainee
meets the exercise (`VariantAssignment`): adding a variant to the pool later never moves anyone.
Everything a trainee gets — the page, the download, runs, the notebook built from the page — is
the variant's release, and their submissions are graded against the variant's source
(lms.services.grading_jobs), so a notebook copied from a trainee with another variant is graded
against the copier's variant, and fails it.
"""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lms.models import Exercise, ExerciseVariant, VariantAssignment

# The key of the hash. It does not need to be secret: the stored assignment, not the hash, is
# what grading reads, and a trainee gains nothing from knowing which variant another one has.
PICK_KEY = b"atlas-variant-pools-v1"


def pool(session: Session, exercise_id: int) -> list[ExerciseVariant]:
    """The variants of an exercise, in exercise.yml order ([] when it has a single notebook)."""
    return list(
        session.scalars(
            select(ExerciseVariant)
            .where(ExerciseVariant.exercise_id == exercise_id)
            .order_by(ExerciseVariant.position)
        )
    )


def pick(user_id: int, exercise_slug: str, keys: list[str]) -> str:
    """The variant key the hash gives this trainee for this exercise, among `keys`."""
    digest = hmac.new(PICK_KEY, f"{exercise_slug}\0{user_id}".encode(), hashlib.sha256).digest()
    return keys[int.from_bytes(digest[:8], "big") % len(keys)]


def assigned(
    session: Session, user_id: int, exercise: Exercise, *, store: bool = True
) -> ExerciseVariant | None:
    """The trainee's variant of `exercise` (None when it has no pool): the stored one, else
    the hash's pick, stored when `store` (committing it: it must outlive the request)."""
    variants = pool(session, exercise.id)
    if not variants:
        return None
    by_key = {v.key: v for v in variants}
    row = session.get(VariantAssignment, (user_id, exercise.id))
    if row is not None and row.key in by_key:
        return by_key[row.key]
    key = pick(user_id, exercise.slug, [v.key for v in variants])
    if not store:
        return by_key[key]
    if row is None:
        session.add(VariantAssignment(user_id=user_id, exercise_id=exercise.id, key=key))
    else:
        row.key = key  # its variant was taken out of the pool: the only time a pick moves
    try:
        session.commit()
    except IntegrityError:
        session.rollback()  # a second request of the trainee stored it first: keep that one
        row = session.get(VariantAssignment, (user_id, exercise.id))
        return by_key.get(row.key, by_key[key]) if row is not None else by_key[key]
    return by_key[key]


def stored(session: Session, user_id: int, exercise: Exercise) -> ExerciseVariant | None:
    """The variant the trainee was given, without choosing one: grading uses this (a
    submission from before the exercise had a pool is graded against its own notebook)."""
    row = session.get(VariantAssignment, (user_id, exercise.id))
    if row is None:
        return None
    return session.scalar(
        select(ExerciseVariant).where(
            ExerciseVariant.exercise_id == exercise.id, ExerciseVariant.key == row.key
        )
    )
