"""The forecast chart's geometry, drawn by templates/recruiter/_forecast.html as SVG (no script,
no chart library): hires so far, the plan as steps, the projection and its band, over time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from lms.services.hiring_plan import RoleForecast

WIDTH, HEIGHT, LEFT, TOP = 560.0, 200.0, 44.0, 16.0
MAX_YEARS = 8  # a projection further out than this is cut at the chart's edge


@dataclass(frozen=True)
class ForecastChart:
    """SVG coordinates: polylines as "x,y x,y" strings, ticks as (position, label)."""

    width: float
    height: float
    left: float
    top: float
    plan: str
    history: str
    central: str
    band: str
    today_x: float
    x_ticks: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]


def forecast_chart(found: RoleForecast, today: date) -> ForecastChart:
    """Where each series of a role's (or the total's) forecast goes on the chart."""
    start = min(found.start, today)
    ends = [today + timedelta(days=365)]
    ends += [d for d in (found.deadline, found.forecast.late, found.forecast.when) if d]
    end = min(max(ends), today + timedelta(days=365 * MAX_YEARS))
    span = max((end - start).days, 1)
    top = max(found.target, 1) * 1.1

    def x(day: date) -> float:
        return LEFT + min(max((day - start).days / span, 0.0), 1.0) * WIDTH

    def y(value: float) -> float:
        return TOP + HEIGHT - min(max(value / top, 0.0), 1.0) * HEIGHT

    def line(points: list[tuple[date, float]]) -> str:
        return " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in points if d <= end)

    steps: list[tuple[date, float]] = [(start, 0.0)]
    for day, running in found.plan_steps:
        steps += [(day, steps[-1][1]), (day, float(running))]
    steps.append((end, steps[-1][1]))
    band = line(found.early) + " " + line(list(reversed(found.late)))
    years = range(start.year + 1, end.year + 1)
    return ForecastChart(
        WIDTH,
        HEIGHT,
        LEFT,
        TOP,
        plan=line(steps),
        history=line([(d, float(v)) for d, v in found.history]),
        central=line(found.central),
        band=band.strip(),
        today_x=x(today),
        x_ticks=[(x(date(year, 1, 1)), str(year)) for year in years],
        y_ticks=[(y(v), str(v)) for v in sorted({0, found.target})],
    )
