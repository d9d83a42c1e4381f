"""The forecast's maths on constructed data: the flow model, its rates and its band."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from lms.services.hiring_forecast import (
    FlowRates,
    FlowState,
    Observed,
    estimate_rates,
    forecast,
    met_on,
    trajectory,
)

TODAY = date(2027, 1, 1)


def steady(hired: int, ready: int, target: int, conversion: float) -> FlowState:
    """A pool kept at `ready` people: as many become ready each day as are hired."""
    return FlowState(hired, ready, target, FlowRates(conversion, 0.0, conversion * ready))


def test_constant_conversion_gives_the_arithmetic_date():
    # 10 ready, 5% hired a day: half a hire a day; 40 to go is 80 days.
    assert met_on([steady(10, 10, 50, 0.05)], TODAY) == TODAY + timedelta(days=80)
    # 1 hire a day, 365 to go: a year.
    assert met_on([steady(0, 20, 365, 0.05)], TODAY) == TODAY + timedelta(days=365)


def test_zero_conversion_is_not_at_current_rates():
    rates = FlowRates(conversion=0.0, lapse=0.01, inflow=3.0)
    assert met_on([FlowState(5, 40, 50, rates)], TODAY) is None
    found = forecast([FlowState(5, 40, 50, rates)], [(rates, rates)], TODAY)
    assert found.when is None and not found.reachable


def test_a_target_already_met_is_met_today():
    assert met_on([steady(50, 0, 50, 0.0)], TODAY) == TODAY


def test_lapses_without_inflow_can_leave_the_target_out_of_reach():
    # 10 ready, nobody new: at most 10 * c / (c + l) = 5 more hires, 20 wanted.
    rates = FlowRates(conversion=0.01, lapse=0.01, inflow=0.0)
    assert met_on([FlowState(0, 10, 20, rates)], TODAY) is None
    assert met_on([FlowState(0, 10, 4, rates)], TODAY) is not None


def test_more_lapses_mean_a_later_date():
    fast = FlowState(0, 10, 30, FlowRates(0.02, 0.0, 0.5))
    slow = FlowState(0, 10, 30, FlowRates(0.02, 0.02, 0.5))
    assert met_on([fast], TODAY) < met_on([slow], TODAY)


def test_the_total_adds_the_roles_up():
    a, b = steady(0, 10, 40, 0.05), steady(0, 10, 40, 0.05)
    # Each role: half a hire a day; together one a day for 80.
    assert met_on([a, b], TODAY) == TODAY + timedelta(days=80)
    path = trajectory([a, b], 10)
    assert path[0] == 0 and path[10] == pytest.approx(10.0)


def test_rates_are_counts_per_exposure_and_the_band_brackets_them():
    observed = Observed(days=90, exposure=900.0, hires=9, lapses=3, entries=18)
    central, fast, slow = estimate_rates(observed)
    assert central == FlowRates(0.01, 3 / 900, 0.2)
    assert slow.conversion < central.conversion < fast.conversion
    assert fast.lapse < central.lapse < slow.lapse
    assert slow.inflow < central.inflow < fast.inflow
    state = FlowState(0, 10, 100, central)
    found = forecast([state], [(fast, slow)], TODAY)
    assert found.early is not None and found.when is not None
    assert found.early < found.when and (found.late is None or found.when < found.late)


def test_no_hire_seen_is_not_at_current_rates_but_the_band_says_how_soon_at_best():
    central, fast, slow = estimate_rates(Observed(90, 900.0, hires=0, lapses=0, entries=10))
    assert central.conversion == 0 and slow.conversion == 0 and fast.conversion > 0
    found = forecast([FlowState(0, 10, 20, central)], [(fast, slow)], TODAY)
    assert found.when is None and found.late is None and found.early is not None


def test_the_shipped_plan_is_the_centre_s_500_engineers_over_four_years():
    from pathlib import Path

    from lms.content import load_content

    bundle = load_content(Path(__file__).resolve().parents[2])
    tracks = {role.id: role.track for role in bundle.roles}
    plan = bundle.hiring_plan
    assert sum(t.count for t in plan) == 500
    assert {tracks[t.role] for t in plan} == {"ai", "data", "middleware"}
    years = sorted({t.by.year for t in plan})
    assert len(years) == 4 and years[-1] - years[0] == 3
