"""Cell difficulties fitted jointly with the cohort's abilities, anchored per skill."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from lms.readiness import Evidence, cohort_difficulties, estimate_cohort_masteries

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)


def _cohort(pass_rates: dict[str, float], trainees: int = 80) -> dict[int, list[Evidence]]:
    """Every trainee sits the same ten two-cell exercises per skill; a cell is passed with the
    skill's rate (the cells themselves all of one difficulty)."""
    rng = np.random.default_rng(7)
    out: dict[int, list[Evidence]] = {}
    for trainee in range(trainees):
        items = []
        for skill, rate in pass_rates.items():
            for number in range(10):
                at = AS_OF - timedelta(days=40 - number)
                for cell in ("a", "b"):
                    items.append(
                        Evidence(
                            skill,
                            float(rng.random() < rate),
                            1.0,
                            at,
                            "assessment",
                            f"{skill}-{number}",
                            grade_id=cell,
                            submission_id=f"{trainee}-{skill}-{number}",
                        )
                    )
        out[trainee] = items
    return out


def test_each_skill_s_cells_average_difficulty_zero():
    evidence = _cohort({"sql": 0.9, "pandas": 0.5})
    offsets = cohort_difficulties(evidence)
    for skill in ("sql", "pandas"):
        mine = [value for (exercise, _), value in offsets.items() if exercise.startswith(skill)]
        assert len(mine) == 20 and abs(float(np.mean(mine))) < 1e-6


def test_a_skill_the_whole_cohort_is_good_at_does_not_read_low():
    """Pass rates centred on the whole cohort made every cell of the strong skill look easy, so
    its levels read low; anchored per skill, the strong skill reads as strong."""
    evidence = _cohort({"sql": 0.9, "pandas": 0.5})
    masteries = estimate_cohort_masteries(
        evidence, AS_OF, difficulties=cohort_difficulties(evidence)
    )
    sql = np.mean([skills["sql"].mean for skills in masteries.values()])
    pandas = np.mean([skills["pandas"].mean for skills in masteries.values()])
    assert sql > 0.8 and 0.4 < pandas < 0.6, (sql, pandas)


def test_no_evidence_gives_no_difficulties():
    assert cohort_difficulties({}) == {} and cohort_difficulties({1: []}) == {}
