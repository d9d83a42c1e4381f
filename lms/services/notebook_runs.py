"""Run and see: a trainee runs their notebook (or up to one cell) in the grading sandbox.

What runs is the exercise's release (no hidden tests) with the trainee's answers, in the same
sandbox and limits as grading (grading/run.py); nothing is stored and nothing is scored. A
trainee has one run at a time and a few a minute, as every run costs a sandbox. A trainee's
runs of an exercise go to their own warm session (grading/runtime/session.py): cells it already
ran, unchanged and in order, are not run again (running on to the next cells runs only those);
an edit to a cell it already ran starts a fresh sandbox. The release's
own outputs (provided cells such as `RAW.head()`) are computed once per release and kept, so
the exercise page shows them on first view.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque

from sqlalchemy.orm import Session

from grading import cells as nbcells
from grading.run import NotebookRun, run_release
from grading.runtime import get_sessions
from lms.errors import Invalid, TooMany
from lms.i18n import N_
from lms.models import Exercise
from lms.services.blobs import get_blob
from lms.services.submissions import release_notebook, release_sha256, trainee_variant

_lock = threading.Lock()
_running: set[int] = set()
_recent: dict[int, deque[float]] = {}
_provided: OrderedDict[str, dict[int, tuple[dict[str, str], ...]]] = OrderedDict()
_PROVIDED_KEPT = 64  # releases whose provided outputs stay in memory


def _claim(user_id: int, per_minute: int) -> None:
    now = time.monotonic()
    with _lock:
        if user_id in _running:
            raise TooMany(N_("Your previous run is still going; wait for it to finish."))
        recent = _recent.setdefault(user_id, deque())
        while recent and now - recent[0] > 60:
            recent.popleft()
        if len(recent) >= per_minute:
            message = N_("You can run your notebook %(n)s times a minute; wait a moment.")
            raise TooMany(message, n=per_minute)
        recent.append(now)
        _running.add(user_id)


def _files(session: Session, exercise: Exercise) -> dict[str, bytes]:
    return {f.path: get_blob(session, f.sha256) for f in exercise.files}


def run_answers(
    session: Session,
    *,
    user_id: int,
    exercise: Exercise,
    answers: dict[str, str],
    upto: int | None,
    per_minute: int,
    sessions: int = 0,
    session_idle_seconds: float = 300.0,
    runtime: object = None,
) -> NotebookRun:
    """Run the release with the trainee's `answers` up to cell `upto` (None: all cells): in
    the trainee's warm session for this exercise when `sessions` (how many are kept at most)
    is not 0, else in a fresh sandbox. Either way the outputs are those of a run from the top."""
    release = release_notebook(session, exercise, user_id=user_id)
    count = len(release.get("cells", []))
    if upto is not None and not 0 <= upto < count:
        raise Invalid(N_("There is no cell %(n)s in this notebook; reload the page."), n=upto + 1)
    files = _files(session, exercise)
    session.rollback()  # end the read transaction: the run takes a moment
    _claim(user_id, per_minute)
    if runtime is None and sessions > 0:
        runtime = get_sessions(sessions, session_idle_seconds).runner(f"{user_id}:{exercise.id}")
    try:
        return run_release(
            release, answers, files=files, timeout=exercise.timeout, upto=upto, runtime=runtime
        )
    finally:
        with _lock:
            _running.discard(user_id)


def provided_outputs(
    session: Session, exercise: Exercise, runtime: object = None, user_id: int | None = None
) -> dict[int, tuple[dict[str, str], ...]]:
    """Cell position -> outputs of the release's provided code cells (not answers, not tests),
    from one run of the release as handed out; errors left out (they come from unanswered
    cells). Computed once per release."""
    variant = trainee_variant(session, exercise, user_id)
    key = release_sha256(exercise, variant=variant)
    with _lock:
        if key in _provided:
            _provided.move_to_end(key)
            return _provided[key]
    release = release_notebook(session, exercise, user_id=user_id)
    files = _files(session, exercise)
    session.rollback()
    run = run_release(release, {}, files=files, timeout=exercise.timeout, runtime=runtime)
    cells = release.get("cells", [])
    shown = {}
    for cell_run in run.cells:
        cell = cells[cell_run.index]
        if nbcells.is_answer(cell) or nbcells.is_grade(cell):
            continue
        outputs = tuple(o for o in cell_run.outputs if o.get("kind") != "error")
        if outputs:
            shown[cell_run.index] = outputs
    with _lock:
        _provided[key] = shown
        while len(_provided) > _PROVIDED_KEPT:
            _provided.popitem(last=False)
    return shown
