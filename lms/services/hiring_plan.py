"""The hiring plan (role x headcount x date), kept by admins, and its forecast at current rates.

Rows are first loaded from courses/roles.yml; once an admin has edited the plan in the browser,
`lms sync` leaves it alone (lms/services/content_import.py), so nothing typed in is lost. A
refused edit changes nothing and says, per field, what is wrong.

The forecast (lms/services/hiring_forecast.py) reads each role's pipeline as the recruiters'
pages count it (distinct people who share their report and are not hired yet, ready for the
role) and its rates over the last `WINDOW_DAYS` of daily snapshots: hires (recruiters' marks),
lapses (people who stopped sharing, in the role's share of the pipeline) and entries (what the
change in the ready count leaves once hires and lapses are put back).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lms.errors import Invalid, NotFound
from lms.i18n import N_
from lms.models import HiringTarget, Role, utcnow
from lms.models.talent import ReportShare
from lms.services import audit, names, talent
from lms.services.hiring_forecast import (
    FlowRates,
    FlowState,
    Forecast,
    Observed,
    estimate_rates,
    forecast,
)
from lms.services.hiring_forecast import trajectory as flow_trajectory

MAX_HEADCOUNT = 5000
WINDOW_DAYS = 90
CHART_STEP_DAYS = 7


class PlanRowInvalid(Invalid):
    """A row of the plan was refused; `errors` says, per field, what is wrong."""

    def __init__(self, errors: dict[str, Invalid]) -> None:
        super().__init__(N_("The row was not saved: correct the fields marked below."))
        self.errors = errors


@dataclass(frozen=True)
class PlanRow:
    """One row as shown: the stored target and its role's name."""

    id: int
    role_id: str
    role_name: str
    count: int
    by: date
    edited_at: datetime | None


def plan_rows(session: Session, language: str = "en") -> list[PlanRow]:
    """Every row of the plan, by date then role."""
    role_names = names.role_names(session, language)
    rows = session.scalars(select(HiringTarget).order_by(HiringTarget.by, HiringTarget.role_id))
    return [
        PlanRow(r.id, r.role_id, role_names.get(r.role_id, r.role_id), r.count, r.by, r.edited_at)
        for r in rows
    ]


def _parse(
    session: Session, role_id: str, count: str | int, by: str | date, row_id: int | None
) -> tuple[str, int, date]:
    """The row's values, or PlanRowInvalid naming every field that is wrong."""
    errors: dict[str, Invalid] = {}
    role_id = (role_id or "").strip()
    if session.get(Role, role_id) is None:
        errors["role"] = Invalid(N_("Choose one of the roles listed."))
    try:
        headcount = int(str(count).strip())
    except ValueError:
        headcount = 0
        errors["count"] = Invalid(
            N_("The headcount is a whole number (%(value)s is not)."), value=str(count)
        )
    else:
        if not 1 <= headcount <= MAX_HEADCOUNT:
            errors["count"] = Invalid(
                N_("The headcount is from 1 to %(most)s (%(value)s is not)."),
                most=MAX_HEADCOUNT,
                value=headcount,
            )
    if isinstance(by, date):
        deadline = by
    else:
        try:
            deadline = date.fromisoformat(str(by).strip())
        except ValueError:
            deadline = date.min
            errors["by"] = Invalid(
                N_("The date is written YYYY-MM-DD, e.g. 2027-12-31 (%(value)s is not a date)."),
                value=str(by),
            )
    if "by" not in errors and not 2000 <= deadline.year <= 2100:
        errors["by"] = Invalid(N_("The date is between 2000 and 2100."))
    if not errors:
        clash = session.scalar(
            select(HiringTarget.id).where(
                HiringTarget.role_id == role_id,
                HiringTarget.by == deadline,
                HiringTarget.id != (row_id or -1),
            )
        )
        if clash is not None:
            errors["by"] = Invalid(
                N_("The plan already has a row for this role by %(date)s: change its headcount."),
                date=deadline.isoformat(),
            )
    if errors:
        raise PlanRowInvalid(errors)
    return role_id, headcount, deadline


def add_row(
    session: Session, role_id: str, count: str | int, by: str | date, by_user_id: int
) -> HiringTarget:
    """Add a row to the plan (refused with every wrong field named)."""
    role_id, headcount, deadline = _parse(session, role_id, count, by, None)
    row = HiringTarget(
        role_id=role_id,
        count=headcount,
        by=deadline,
        edited_at=utcnow(),
        edited_by_user_id=by_user_id,
    )
    session.add(row)
    audit.record(session, "plan.add", by_user_id, role=role_id, count=headcount, by=str(deadline))
    session.commit()
    return row


def change_row(
    session: Session, row_id: int, role_id: str, count: str | int, by: str | date, by_user_id: int
) -> HiringTarget:
    """Change a row of the plan (refused with every wrong field named; nothing changes then)."""
    row = session.get(HiringTarget, row_id)
    if row is None:
        raise NotFound(N_("That row of the plan no longer exists; nothing was changed."))
    role_id, headcount, deadline = _parse(session, role_id, count, by, row_id)
    before = {"role": row.role_id, "count": row.count, "by": str(row.by)}
    row.role_id, row.count, row.by = role_id, headcount, deadline
    row.edited_at, row.edited_by_user_id = utcnow(), by_user_id
    audit.record(
        session,
        "plan.change",
        by_user_id,
        before=before,
        role=role_id,
        count=headcount,
        by=str(deadline),
    )
    session.commit()
    return row


def remove_row(session: Session, row_id: int, by_user_id: int) -> None:
    """Remove a row of the plan."""
    row = session.get(HiringTarget, row_id)
    if row is None:
        raise NotFound(N_("That row of the plan no longer exists; nothing was changed."))
    audit.record(
        session, "plan.remove", by_user_id, role=row.role_id, count=row.count, by=str(row.by)
    )
    session.delete(row)
    session.commit()


# --- forecast ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoleForecast:
    """One role (or the total) against the plan: where it stands, when it gets there, and the
    chart's series (days from `start`, cumulative headcounts)."""

    role_id: str
    role_name: str
    target: int
    deadline: date | None
    hired: int
    ready: int
    forecast: Forecast
    start: date
    plan_steps: list[tuple[date, int]] = field(default_factory=list)
    history: list[tuple[date, int]] = field(default_factory=list)
    central: list[tuple[date, float]] = field(default_factory=list)
    early: list[tuple[date, float]] = field(default_factory=list)
    late: list[tuple[date, float]] = field(default_factory=list)

    @property
    def on_track(self) -> bool | None:
        """Met by the plan's last date at current rates (None without a plan)."""
        if self.deadline is None:
            return None
        return self.forecast.when is not None and self.forecast.when <= self.deadline

    @property
    def per_month(self) -> dict[str, float]:
        """The current rates per 30 days, for people to read."""
        rates = self.forecast.rates
        return {
            "conversion": rates.conversion * 30,
            "lapse": rates.lapse * 30,
            "inflow": rates.inflow * 30,
        }


@dataclass(frozen=True)
class PlanForecast:
    """Every role's forecast and the total's."""

    today: date
    roles: list[RoleForecast]
    total: RoleForecast


def _observed(series: list[Any], revocations: int, today: date) -> Observed:
    """A role's window of snapshots as counts: hires, lapses, entries and ready person-days."""
    since = today - timedelta(days=WINDOW_DAYS)
    window = [s for s in series if s.day >= since] or series[-1:]
    first, last = window[0], window[-1]
    days = max((last.day - first.day).days, 1)
    exposure = sum(
        (b.day - a.day).days * (a.ready + b.ready) / 2 for a, b in itertools.pairwise(window)
    ) or float(last.ready * days)
    hires = max(last.hired - first.hired, 0)
    pool = sum(s.trainees for s in window) / len(window)
    share = (sum(s.ready for s in window) / len(window)) / pool if pool else 0.0
    lapses = round(revocations * share)
    entries = max(last.ready - first.ready + hires + lapses, 0)
    return Observed(days, exposure, hires, lapses, entries)


def _revocations(session: Session, since: datetime) -> int:
    """Distinct trainees who stopped sharing their report since then."""
    return int(
        session.scalar(
            select(func.count(func.distinct(ReportShare.trainee_id))).where(
                ReportShare.shared.is_(False), ReportShare.at >= since
            )
        )
        or 0
    )


def plan_forecast(
    session: Session, language: str = "en", today: date | None = None
) -> PlanForecast:
    """Each role's and the total's forecast against the plan, at current rates."""
    today = today or utcnow().date()
    since = datetime.combine(today - timedelta(days=WINDOW_DAYS), time.min, tzinfo=UTC)
    revoked = _revocations(session, since)
    targets = list(session.scalars(select(HiringTarget).order_by(HiringTarget.by)))
    roles = []
    for now in talent.pipeline(session, language=language):
        rows = [t for t in targets if t.role_id == now.role_id]
        if not rows:
            continue
        series = talent.pipeline_series(session, now, WINDOW_DAYS)
        central, fast, slow = estimate_rates(_observed(series, revoked, today))
        state = FlowState(now.hired, now.ready, sum(t.count for t in rows), central)
        roles.append((now, rows, series, state, (fast, slow)))
    built = [
        _role_forecast(now.role_id, now.role_name, rows, series, [state], [band], today)
        for now, rows, series, state, band in roles
    ]
    total = _role_forecast(
        "total",
        "",
        targets,
        _summed_series([r[2] for r in roles]),
        [r[3] for r in roles],
        [r[4] for r in roles],
        today,
    )
    return PlanForecast(today, built, total)


def _summed_series(all_series: list[list[Any]]) -> list[Any]:
    """The roles' hired counts added up per day (the days every role has)."""
    by_day: dict[date, int] = {}
    for series in all_series:
        for point in series:
            by_day[point.day] = by_day.get(point.day, 0) + point.hired
    return [_Point(day, hired) for day, hired in sorted(by_day.items())]


@dataclass(frozen=True)
class _Point:
    day: date
    hired: int


def _role_forecast(
    role_id: str,
    role_name: str,
    rows: list[HiringTarget],
    series: list[Any],
    states: list[FlowState],
    band: list[tuple[Any, Any]],
    today: date,
) -> RoleForecast:
    found = forecast(states, band, today) if states else None
    deadline = max((t.by for t in rows), default=None)
    steps: list[tuple[date, int]] = []
    running = 0
    for t in sorted(rows, key=lambda t: t.by):
        running += t.count
        steps.append((t.by, running))
    ends = [d for d in (deadline, found and found.late, found and found.when) if d is not None]
    horizon = max(min((max(ends) - today).days, 20 * 365), 30) if ends else 365
    start = series[0].day if series else today

    def sampled(which: list[FlowState]) -> list[tuple[date, float]]:
        path = flow_trajectory(which, horizon)
        return [
            (today + timedelta(days=d), path[d]) for d in range(0, horizon + 1, CHART_STEP_DAYS)
        ]

    fast = [
        FlowState(s.hired, s.ready, s.target, f) for s, (f, _) in zip(states, band, strict=True)
    ]
    slow = [
        FlowState(s.hired, s.ready, s.target, w) for s, (_, w) in zip(states, band, strict=True)
    ]
    empty = Forecast(None, None, None, FlowRates(0.0, 0.0, 0.0))
    return RoleForecast(
        role_id=role_id,
        role_name=role_name,
        target=sum(t.count for t in rows),
        deadline=deadline,
        hired=sum(s.hired for s in states),
        ready=sum(s.ready for s in states),
        forecast=found or empty,
        start=start,
        plan_steps=steps,
        history=[(p.day, p.hired) for p in series],
        central=sampled(states) if states else [],
        early=sampled(fast) if states else [],
        late=sampled(slow) if states else [],
    )
