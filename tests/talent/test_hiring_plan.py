"""The hiring plan kept in the browser by admins (validation, nothing lost), its forecast, and
who may see or edit it."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from lms.models import HiringTarget
from lms.models.audit import AuditEvent
from lms.services import hiring_plan, talent
from lms.services.content_import import import_content
from tests.talent.conftest import TALENT_CONTENT


def _rows(session) -> list[tuple[str, int, date]]:
    session.expire_all()
    found = session.execute(
        select(HiringTarget.role_id, HiringTarget.count, HiringTarget.by).order_by(HiringTarget.by)
    )
    rows = [tuple(row) for row in found]
    session.rollback()  # SQLite: an open read transaction holds the write lock
    return rows


def _row_id(session) -> int:
    found = session.scalar(select(HiringTarget.id))
    session.rollback()
    return found


def test_an_admin_adds_changes_and_removes_rows(client, auth, users, world, session) -> None:
    assert _rows(session) == [("junior-dev", 3, date(2027, 6, 30))]  # from roles.yml
    auth.login(users.admin)
    page = client.get("/admin/talent/plan")
    assert page.status_code == 200 and 'id="forecast"' in page.get_data(as_text=True)
    added = auth.post(
        "/admin/talent/plan", {"role": "junior-dev", "count": "5", "by": "2028-06-30"}
    )
    assert added.status_code == 303
    assert _rows(session)[-1] == ("junior-dev", 5, date(2028, 6, 30))
    first = _row_id(session)
    changed = auth.post(
        f"/admin/talent/plan/{first}", {"role": "junior-dev", "count": "4", "by": "2027-09-30"}
    )
    assert changed.status_code == 303
    assert _rows(session) == [
        ("junior-dev", 4, date(2027, 9, 30)),
        ("junior-dev", 5, date(2028, 6, 30)),
    ]
    assert auth.post(f"/admin/talent/plan/{first}/remove").status_code == 303
    assert _rows(session) == [("junior-dev", 5, date(2028, 6, 30))]
    actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert [a for a in actions if a.startswith("plan.")] == [
        "plan.add",
        "plan.change",
        "plan.remove",
    ]


def test_a_refused_row_says_what_is_wrong_and_loses_nothing(client, auth, users, world, session):
    auth.login(users.admin)
    row = _row_id(session)
    refused = auth.post(
        f"/admin/talent/plan/{row}", {"role": "junior-dev", "count": "ten", "by": "2027-13-40"}
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "The headcount is a whole number (ten is not)." in html
    assert "The date is written YYYY-MM-DD, e.g. 2027-12-31 (2027-13-40 is not a date)." in html
    assert 'value="ten"' in html and 'value="2027-13-40"' in html  # what was typed is kept
    assert _rows(session) == [("junior-dev", 3, date(2027, 6, 30))]  # nothing stored changed
    refused = auth.post("/admin/talent/plan", {"role": "nobody", "count": "0", "by": "2027-01-01"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "Choose one of the roles listed." in html
    assert "The headcount is from 1 to 5000 (0 is not)." in html
    twice = auth.post(
        "/admin/talent/plan", {"role": "junior-dev", "count": "2", "by": "2027-06-30"}
    )
    assert twice.status_code == 400
    assert "already has a row for this role by 2027-06-30" in twice.get_data(as_text=True)
    assert _rows(session) == [("junior-dev", 3, date(2027, 6, 30))]
    gone = auth.post(
        "/admin/talent/plan/99999", {"role": "junior-dev", "count": "2", "by": "2027-06-30"}
    )
    assert gone.status_code == 303  # said on the plan page: nothing was changed
    assert _rows(session) == [("junior-dev", 3, date(2027, 6, 30))]


def test_the_errors_are_french_for_a_french_admin(client, auth, users, world, session) -> None:
    auth.login(users.admin)
    auth.post("/language", {"locale": "fr", "next": "/admin/talent/plan"})
    refused = auth.post("/admin/talent/plan", {"role": "", "count": "x", "by": "demain"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "Plan de recrutement" in html and "Choisissez un des rôles proposés." in html
    assert "(x n’est pas un nombre entier)" in html


def test_sync_keeps_a_plan_edited_in_the_browser(client, auth, users, world, session) -> None:
    import_content(session, TALENT_CONTENT)  # not edited yet: the file rules
    assert _rows(session) == [("junior-dev", 3, date(2027, 6, 30))]
    auth.login(users.admin)
    auth.post("/admin/talent/plan", {"role": "junior-dev", "count": "7", "by": "2029-01-31"})
    import_content(session, TALENT_CONTENT)
    assert _rows(session) == [
        ("junior-dev", 3, date(2027, 6, 30)),
        ("junior-dev", 7, date(2029, 1, 31)),
    ]


@pytest.mark.parametrize("who", ["trainee", "recruiter", "instructor"])
def test_only_an_admin_edits_the_plan(client, auth, users, world, session, who) -> None:
    row = _row_id(session)
    auth.login(getattr(users, who))
    assert client.get("/admin/talent/plan").status_code == 403
    data = {"role": "junior-dev", "count": "9", "by": "2030-01-01"}
    assert auth.post("/admin/talent/plan", data).status_code == 403
    assert auth.post(f"/admin/talent/plan/{row}", data).status_code == 403
    assert auth.post(f"/admin/talent/plan/{row}/remove").status_code == 403
    assert _rows(session) == [("junior-dev", 3, date(2027, 6, 30))]


def test_signed_out_the_plan_and_forecast_ask_to_sign_in(client, world) -> None:
    for path in ("/admin/talent/plan", "/recruiter/forecast"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_recruiters_see_the_forecast_trainees_do_not(client, auth, users, world, session) -> None:
    auth.login(users.trainee)
    assert client.get("/recruiter/forecast").status_code == 403
    auth.logout()
    auth.login(users.recruiter)
    html = client.get("/recruiter/forecast").get_data(as_text=True)
    assert 'id="forecast"' in html and "<svg" in html and 'class="series-plan"' in html
    assert 'data-role="total"' in html and "over the last 90 days" in html
    auth.post("/language", {"locale": "fr", "next": "/recruiter/forecast"})
    french = client.get("/recruiter/forecast").get_data(as_text=True)
    assert (
        "Prévision" in french and "Tous les rôles" in french and "Pas aux rythmes actuels" in french
    )


def test_the_forecast_counts_the_pipeline_the_recruiters_see(world, session) -> None:
    """Nobody shares: nobody ready, no hire seen, so "not at current rates"; the target is the
    plan's."""
    found = hiring_plan.plan_forecast(session)
    role = found.roles[0]
    assert (role.role_id, role.target, role.ready, role.hired) == ("junior-dev", 3, 0, 0)
    assert role.forecast.when is None and role.on_track is False
    talent.set_sharing(session, world.trainee_id, True)
    assert hiring_plan.plan_forecast(session).roles[0].ready == 1
    assert found.total.target == 3
