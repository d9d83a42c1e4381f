"""Names and Role Provisioning: an LMS course's roster imported into a cohort here.

Learners get (or keep) the account their LMS identity maps to and join the cohort of that LMS
course; the course's staff get accounts too but join no cohort; other members are skipped.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from pylti1p3.names_roles import NamesRolesProvisioningService
from pylti1p3.service_connector import ServiceConnector
from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.errors import DomainError, Invalid
from lms.i18n import N_
from lms.models import UserRole
from lms.models.talent import Cohort
from lms.services import lti_launch, lti_platforms, talent

NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"


@dataclass(frozen=True)
class RosterImport:
    """What an import did."""

    cohort: Cohort
    trainees: int
    staff: int
    skipped: int


def cohort_for(session: Session, issuer: str, context_id: str, title: str) -> Cohort:
    """The cohort of an LMS course (made at its first import)."""
    digest = hashlib.sha256(f"{issuer}\n{context_id}".encode()).hexdigest()[:20]
    slug = f"lti-{digest}"
    cohort = session.scalars(select(Cohort).where(Cohort.slug == slug)).first()
    return cohort or talent.create_cohort(session, slug, (title or slug)[:200])


def import_roster(
    session: Session, platform_id: int, memberships_url: str, context: dict[str, Any]
) -> RosterImport:
    """Fetch the course's members from the LMS and put its learners in the course's cohort."""
    if not memberships_url.startswith(("https://", "http://")):
        raise Invalid(N_("The LMS did not offer its roster service for this course."))
    platform = lti_platforms.get(session, platform_id)
    service = NamesRolesProvisioningService(
        ServiceConnector(
            lti_platforms.registration_for(session, platform), lti_platforms.http_session()
        ),
        {"context_memberships_url": memberships_url},
    )
    try:
        members = service.get_members()
    except Exception as error:  # the LMS refused or is down: say so, change nothing
        session.rollback()
        raise Invalid(
            N_("The LMS did not send its roster: %(reason)s"), reason=str(error)[:300]
        ) from error
    cohort = cohort_for(
        session, platform.issuer, str(context.get("id", "")), context.get("title", "")
    )
    learners, staff, skipped = [], 0, 0
    for member in members:
        if member.get("status", "Active") != "Active" or not member.get("user_id"):
            skipped += 1
            continue
        claims = {
            "iss": platform.issuer,
            "sub": str(member["user_id"]),
            lti_launch.CLAIM + "roles": member.get("roles") or [],
            "name": member.get("name") or "",
        }
        try:
            user = lti_launch.account_for(session, platform, claims)
        except DomainError:
            skipped += 1
            continue
        if user.role is UserRole.TRAINEE:
            learners.append(user.email)
        else:
            staff += 1
    session.commit()
    if learners:
        talent.add_members(session, cohort.id, learners)
    return RosterImport(cohort=cohort, trainees=len(learners), staff=staff, skipped=skipped)
