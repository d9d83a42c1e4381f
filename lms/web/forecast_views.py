"""What the forecast section of a page needs (recruiters' forecast page, admins' plan page)."""

from __future__ import annotations

from typing import Any

from lms.extensions import db
from lms.services import hiring_plan
from lms.web.forecast_chart import forecast_chart


def forecast_context(language: str) -> dict[str, Any]:
    """The plan's forecast, each role's chart and the window the rates are counted over."""
    plan = hiring_plan.plan_forecast(db.session, language)
    charts = {f.role_id: forecast_chart(f, plan.today) for f in [*plan.roles, plan.total]}
    return {"plan": plan, "charts": charts, "window_days": hiring_plan.WINDOW_DAYS}
