"""The audit log of admins' and instructors' actions: recorded by the services that act, read
and filtered by admins. Recording never commits: the action and its line commit together."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from lms.database import begin_write
from lms.models import User, utcnow
from lms.models.audit import AuditEvent

# What is recorded; the audit page offers these as filters.
ACTIONS = (
    "account.invite",
    "account.reset_link",
    "account.password_reset",
    "account.disable",
    "account.enable",
    "account.role",
    "account.delete",
    "account.oidc_link",
    "account.oidc_create",
    "consent.share",
    "consent.revoke",
    "cohort.ask",
    "grade.override",
    "grade.regrade",
    "deadline.set",
    "deadline.cohort",
    "deadline.extension",
    "export.my_data",
    "export.candidates",
    "export.gradebook",
    "export.report",
    "token.create",
    "token.revoke",
    "plan.add",
    "plan.change",
    "plan.remove",
)
PLAN_ACTIONS = ("plan.add", "plan.change", "plan.remove")
PAGE_SIZE = 100


def record(
    session: Session,
    action: str,
    actor_id: int | None,
    subject_id: int | None = None,
    **detail: Any,
) -> AuditEvent:
    """Add one line to the log (the caller's commit stores it with the action)."""
    emails = dict(
        session.execute(
            select(User.id, User.email).where(
                User.id.in_([i for i in (actor_id, subject_id) if i is not None])
            )
        ).all()
    )
    event = AuditEvent(
        action=action,
        actor_id=actor_id,
        actor_email=emails.get(actor_id, ""),
        subject_id=subject_id,
        subject_email=emails.get(subject_id, ""),
        detail=detail,
        at=utcnow(),
    )
    session.add(event)
    return event


def anonymise(session: Session, user_id: int, placeholder: str) -> None:
    """Replace a deleted person's e-mail in the log (the lines stay, the name goes)."""
    session.execute(
        update(AuditEvent).where(AuditEvent.actor_id == user_id).values(actor_email=placeholder)
    )
    session.execute(
        update(AuditEvent).where(AuditEvent.subject_id == user_id).values(subject_email=placeholder)
    )


@dataclass(frozen=True)
class AuditFilter:
    """What the audit page narrows to (all optional)."""

    action: str | None = None
    person: str | None = None  # part of the actor's or subject's e-mail
    since: datetime | None = None
    before_id: int | None = None  # paging: lines older than this one


def events(session: Session, filters: AuditFilter = AuditFilter()) -> list[AuditEvent]:
    """The matching lines, newest first, one page at a time."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(PAGE_SIZE)
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.person:
        pattern = f"%{filters.person.lower()}%"
        query = query.where(
            or_(AuditEvent.actor_email.like(pattern), AuditEvent.subject_email.like(pattern))
        )
    if filters.since:
        query = query.where(AuditEvent.at >= filters.since)
    if filters.before_id:
        query = query.where(AuditEvent.id < filters.before_id)
    return list(session.scalars(query))


def record_export(
    session: Session, action: str, actor_id: int, subject_id: int | None = None, **detail: Any
) -> None:
    """Record that someone took data away (an export is an action by itself: committed here).

    Exports are GETs, whose SQLite transactions only read: take the write lock first."""
    begin_write(session)
    record(session, action, actor_id, subject_id, **detail)
    session.commit()


def plan_edited(session: Session) -> bool:
    """Whether an admin has ever edited the hiring plan in the browser (then `lms sync` keeps
    the plan as it is rather than reloading it from courses/roles.yml)."""
    found = session.scalar(
        select(AuditEvent.id).where(AuditEvent.action.in_(PLAN_ACTIONS)).limit(1)
    )
    return found is not None
