"""The result panel's words: what the grader's flags mean for a trainee, in their language.

The grader records what happened as machine-readable flags (`timeout:test_add`, `memory:cell-3`,
`protocol-violation:oversized`; README: The grader's command line); the panel explains each in
plain words, beside the cell it concerns.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from lms.i18n import N_

# kind -> sentence; %(cell)s is the cell (a test's name or "cell 3"), %(seconds)s its time limit
_EVENTS = {
    "timeout": N_(
        "%(cell)s ran longer than its time limit (%(seconds)s s) and was stopped: look for a "
        "loop that never ends or a very slow step."
    ),
    "budget": N_(
        "The notebook used up its total running time during %(cell)s: the cells after it did "
        "not run and score 0."
    ),
    "memory": N_(
        "%(cell)s used more memory than allowed and was stopped: work on smaller data or avoid "
        "building very large objects."
    ),
    "died": N_(
        "The Python process running your notebook stopped during %(cell)s (a crash or an "
        "exit()): the cells after it did not run."
    ),
    "output-limit": N_("%(cell)s printed more output than allowed: the rest was cut."),
    "cpu-time": N_("%(cell)s used more processor time than allowed and was stopped."),
    "file-size": N_("%(cell)s tried to write a file larger than allowed."),
    "processes": N_("%(cell)s started more processes than allowed."),
    "sandbox": N_(
        "The grading sandbox failed during %(cell)s: submit again, and tell your instructor if "
        "it happens again."
    ),
    "forged": N_(
        "%(cell)s wrote on the grader's report channel: the run was stopped there and the "
        "cells not reported score 0."
    ),
    "protocol-violation": N_(
        "Something in the notebook wrote on the grader's report channel: the run was stopped "
        "there and the cells not reported score 0."
    ),
    "introspection": N_("Code inspected the running test %(cell)s: it scores 0."),
    "tampered-runtime": N_(
        "Your code replaced something the tests rely on (%(cell)s): the tests run after that "
        "score 0."
    ),
    "invalid-result": N_("%(cell)s produced a result that is not a valid score: it scores 0."),
}


def _cell_name(label: str) -> str:
    if label == "notebook":
        return _("the notebook")
    if label.startswith("cell-") and label[5:].isdigit():
        return _("cell %(n)s", n=label[5:])
    return label


def sandbox_events(flags: list[str], cell_seconds: float) -> list[dict[str, Any]]:
    """One plain sentence per flag the panel explains: {kind, cell, text}; `cell` is the flag's
    grade id or cell label (None for the whole run)."""
    events = []
    for flag in flags:
        kind, _sep, label = flag.partition(":")
        if kind not in _EVENTS:
            continue  # tampering of test cells has its own line in the panel
        cell = None if kind == "protocol-violation" else label
        name = _cell_name(label) if cell else ""
        text = _(_EVENTS[kind], cell=name, seconds=f"{cell_seconds:g}")
        if name != label:  # a sentence starting with "the notebook" or "cell 3", not a grade id
            text = text[:1].upper() + text[1:]
        events.append({"kind": kind, "cell": cell, "text": text})
    return events
