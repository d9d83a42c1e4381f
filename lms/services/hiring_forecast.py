"""When the hiring plan is met at current rates: a small flow model, pure (no database).

A role's pipeline is its *ready* people (sharing their report, not hired yet). Each day, of
`n` ready people, `conversion * n` are hired and `lapse * n` leave without being hired (they
stop sharing, their evidence goes stale); `inflow` people become ready. So

    hired(t + 1) = hired(t) + conversion * n(t)
    n(t + 1)     = n(t) + inflow - (conversion + lapse) * n(t)

and the forecast is the first day `hired` reaches the plan's headcount. The rates are the
current ones: counted over a recent window (hires, lapses and entries, per ready person-day of
exposure, or per day for entries). Each count is a Poisson count, so the band comes from its
80% interval (Gamma quantiles): the early end has hires and entries at their high ends and
lapses at their low end; the late end the reverse. With no hire seen, or hires that can never
add up to the target, the answer is "not at current rates" (None), never a made-up date.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from scipy.stats import gamma

HORIZON_DAYS = 20 * 365  # beyond this a date is no forecast: "not at current rates"
BAND = 0.8


@dataclass(frozen=True)
class FlowRates:
    """Daily rates: hires and lapses per ready person, entries into the ready pool."""

    conversion: float
    lapse: float
    inflow: float


@dataclass(frozen=True)
class Observed:
    """What a recent window showed: its length, ready person-days, and the events counted."""

    days: float
    exposure: float  # ready person-days over the window
    hires: int
    lapses: int
    entries: int


@dataclass(frozen=True)
class FlowState:
    """Where a role stands today and how it moves: hired so far, ready now, the target."""

    hired: int
    ready: int
    target: int
    rates: FlowRates


@dataclass(frozen=True)
class Forecast:
    """The date the target is met at current rates, with its band (None: not at those rates)."""

    when: date | None
    early: date | None
    late: date | None
    rates: FlowRates

    @property
    def reachable(self) -> bool:
        """Whether the target is met at current rates within the horizon."""
        return self.when is not None


def _bounds(count: int) -> tuple[float, float]:
    """The central BAND interval of a Poisson mean given one observed count."""
    tail = (1 - BAND) / 2
    low = float(gamma.ppf(tail, count)) if count > 0 else 0.0
    return low, float(gamma.ppf(1 - tail, count + 1))


def estimate_rates(observed: Observed) -> tuple[FlowRates, FlowRates, FlowRates]:
    """Central, fast and slow rates from a window's counts (fast: more hires and entries,
    fewer lapses; slow: the reverse)."""
    exposure = max(observed.exposure, 1e-9)
    days = max(observed.days, 1e-9)
    hires, lapses, entries = (
        _bounds(k) for k in (observed.hires, observed.lapses, observed.entries)
    )
    central = FlowRates(
        observed.hires / exposure, observed.lapses / exposure, observed.entries / days
    )
    fast = FlowRates(hires[1] / exposure, lapses[0] / exposure, entries[1] / days)
    slow = FlowRates(hires[0] / exposure, lapses[1] / exposure, entries[0] / days)
    return central, fast, slow


def trajectory(states: Sequence[FlowState], days: int) -> list[float]:
    """Hires so far, summed over `states`, at the end of each day 0..days (day 0 is today)."""
    ready = [float(s.ready) for s in states]
    hired = [float(s.hired) for s in states]
    out = [sum(hired)]
    for _ in range(days):
        for i, state in enumerate(states):
            rates = state.rates
            hired[i] += rates.conversion * ready[i]
            ready[i] += rates.inflow - (rates.conversion + rates.lapse) * ready[i]
        out.append(sum(hired))
    return out


def met_on(
    states: Sequence[FlowState], today: date, horizon_days: int = HORIZON_DAYS
) -> date | None:
    """The first day the summed hires reach the summed targets at these rates (None: not
    within the horizon, e.g. with no conversion at all)."""
    target = sum(s.target for s in states)
    if sum(s.hired for s in states) >= target:
        return today
    if not any(s.rates.conversion > 0 for s in states):
        return None
    ready = [float(s.ready) for s in states]
    hired = [float(s.hired) for s in states]
    for day in range(1, horizon_days + 1):
        for i, state in enumerate(states):
            rates = state.rates
            hired[i] += rates.conversion * ready[i]
            ready[i] += rates.inflow - (rates.conversion + rates.lapse) * ready[i]
        if sum(hired) >= target - 1e-9:
            return today + timedelta(days=day)
    return None


def forecast(
    states: Sequence[FlowState],
    band: Sequence[tuple[FlowRates, FlowRates]],
    today: date,
) -> Forecast:
    """The forecast for these roles together (one role: a list of one), with `band` giving
    each role's (fast, slow) rates beside its central ones."""
    fast = [
        FlowState(s.hired, s.ready, s.target, f) for s, (f, _) in zip(states, band, strict=True)
    ]
    slow = [
        FlowState(s.hired, s.ready, s.target, w) for s, (_, w) in zip(states, band, strict=True)
    ]
    central = states[0].rates if len(states) == 1 else _summed(states)
    return Forecast(met_on(states, today), met_on(fast, today), met_on(slow, today), central)


def _summed(states: Sequence[FlowState]) -> FlowRates:
    """The roles' rates seen as one pool (conversion and lapse weighted by ready people)."""
    ready = sum(s.ready for s in states) or 1
    return FlowRates(
        sum(s.rates.conversion * s.ready for s in states) / ready,
        sum(s.rates.lapse * s.ready for s in states) / ready,
        sum(s.rates.inflow for s in states),
    )
